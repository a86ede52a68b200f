"""The Apollo emulator (DESIGN §4): its REST API in :mod:`.api` over the contacts, stages and
lists of :mod:`.store`; a contact's wire JSON and Apollo's email edits in :mod:`.contacts`,
the lists' search bitmask in :mod:`.labels`."""
