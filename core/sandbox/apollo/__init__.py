"""The Apollo emulator (DESIGN §4): its REST API in :mod:`.api` over the contacts, stages and
lists of :mod:`.store`."""
