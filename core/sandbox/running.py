"""A whole sandbox running: a dataset loaded into both stores, both emulators serving it over
HTTPS on 127.0.0.1, and Apollo's sync between them (:mod:`core.sandbox.integration`)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from . import dataset as dataset_module
from . import tls as tls_module
from .apollo.api import start_apollo
from .apollo.store import ApolloStore
from .child import ChildSandbox
from .clock import SandboxClock
from .ids import APOLLO_SYNC_USER, to18
from .integration import ApolloSync, PullReport, coerce_settings
from .salesforce.app import start_salesforce
from .salesforce.store import SalesforceStore


def load_dataset(sf_store, apollo_store: ApolloStore, dataset, *, chunk: int = 20_000) -> dict:
    """Load a generated dataset into both stores; returns how many rows of each.

    A dataset that offers ``scenarios()`` is generated once and split as it streams;
    otherwise its ``salesforce_records()``, ``salesforce_history()`` and
    ``apollo_contacts()`` are read one after the other. Its lists of contacts come from
    ``labels()``, if it has them.
    """
    labels = getattr(dataset, "labels", None)
    counts = {"accounts": sf_store.load_accounts(dataset.accounts()),
              "stages": apollo_store.load_stages(dataset.stages()),
              "labels": apollo_store.load_labels(labels()) if labels else 0,
              "salesforce_records": 0, "salesforce_history": 0, "apollo_contacts": 0}
    scenarios = getattr(dataset, "scenarios", None)
    with apollo_store.bulk_load():
        if scenarios is None:
            counts["salesforce_records"] = sf_store.load_records(dataset.salesforce_records())
            counts["salesforce_history"] = sf_store.load_history(dataset.salesforce_history())
            counts["apollo_contacts"] = apollo_store.load_contacts(dataset.apollo_contacts())
            return counts
        contacts, records, history = [], [], []

        def flush():
            counts["salesforce_records"] += sf_store.load_records(records) if records else 0
            counts["salesforce_history"] += sf_store.load_history(history) if history else 0
            counts["apollo_contacts"] += apollo_store.load_contacts(contacts) if contacts else 0
            contacts.clear()
            records.clear()
            history.clear()

        for scenario in scenarios():
            if scenario.apollo:
                contacts.append(scenario.apollo)
            records.extend(scenario.salesforce)
            history.extend(scenario.history)
            if len(contacts) >= chunk or len(records) >= chunk:
                flush()
        flush()
    return counts


def _generate(records: int, seed: int):
    generate = getattr(dataset_module, "generate", None)  # a factory, if the module offers one
    return generate(records, seed) if generate else dataset_module.Dataset(records, seed)


class RunningSandbox:
    """Both emulators serving one integrated Apollo ⇄ Salesforce setup over HTTPS on 127.0.0.1.

    Attributes: ``salesforce_url`` (also the instance and login URL), ``apollo_url``,
    ``ca_path``, ``apollo_api_key``, ``salesforce_access_token``, ``salesforce_client_id``,
    ``admin_token`` (``X-Sandbox-Admin`` on both servers), ``sync``, ``clock`` and the
    stores, apps and servers. :meth:`info` is everything a separate process needs.
    """

    def __init__(self, *, salesforce_server, apollo_server, sync: ApolloSync, clock,
                 tls_material, apollo_api_key: str, salesforce_access_token: str,
                 admin_token: str, records: int, seed: int, loaded: dict,
                 build_seconds: float):
        self.salesforce_server = salesforce_server
        self.apollo_server = apollo_server
        self.salesforce_app = salesforce_server.app
        self.apollo_app = apollo_server.app
        self.sync = sync
        self.sf_store = sync.sf
        self.apollo_store = sync.apollo
        self.clock = clock
        self.tls = tls_material
        self.apollo_api_key = apollo_api_key
        self.salesforce_access_token = salesforce_access_token
        self.admin_token = admin_token
        self.records = records
        self.seed = seed
        self.loaded = loaded
        self.build_seconds = build_seconds

    @property
    def salesforce_url(self) -> str:
        return self.salesforce_server.base_url

    @property
    def salesforce_instance_url(self) -> str:
        return self.salesforce_server.base_url

    @property
    def salesforce_login_url(self) -> str:
        """Where OAuth and SOAP login go (the emulated org serves its own login host)."""
        return self.salesforce_server.base_url

    @property
    def salesforce_client_id(self) -> str:
        return self.salesforce_app.client_id

    @property
    def apollo_url(self) -> str:
        return self.apollo_server.base_url

    @property
    def ca_path(self) -> str:
        return str(self.tls.ca_path)

    def pull_tick(self) -> PullReport:
        """Run Apollo's pull now (what ``POST /__sandbox/pull_tick`` does)."""
        return self.sync.pull_tick()

    def info(self) -> dict:
        """A JSON-able description: URLs, CA, credentials, admin routes, what was loaded."""
        sf_app = self.salesforce_app
        settings = self.sync.settings
        return {
            "ca_path": self.ca_path,
            "admin_token": self.admin_token,
            "records": self.records,
            "seed": self.seed,
            "loaded": self.loaded,
            "build_seconds": round(self.build_seconds, 3),
            "apollo": {
                "base_url": self.apollo_url,
                "api_url": self.apollo_url + "/api/v1",
                "api_key": self.apollo_api_key,
                "pull_tick_url": self.apollo_url + "/__sandbox/pull_tick",
                "clock_url": self.apollo_url + "/__sandbox/clock",
                "faults_url": self.apollo_url + "/__sandbox/faults",
            },
            "salesforce": {
                **sf_app.info(),  # instance and login URLs, the app's and the user's secrets
                "base_url": self.salesforce_url,
                "token_url": self.salesforce_login_url + "/services/oauth2/token",
                "access_token": self.salesforce_access_token,
                "faults_url": self.salesforce_url + "/__sandbox/faults",
            },
            "settings": {"create_policy": settings.create_policy.value,
                         "create_stages": list(settings.create_stages),
                         "create_as": settings.create_as,
                         "manage_crm_as_contacts": settings.manage_crm_as_contacts,
                         # The Salesforce user Apollo's sync writes as: records it created
                         # were pushed (rules: LATE_SFDC_CREATE needs to know).
                         "apollo_user_ids": [to18(APOLLO_SYNC_USER)]},
            "now": self.clock().isoformat(),
        }

    def stop(self) -> None:
        """Stop both servers and close (and delete) both stores."""
        for server in (self.apollo_server, self.salesforce_server):
            try:
                server.stop()
            except OSError:
                pass
        self.apollo_store.close()
        self.sf_store.close()

    def __enter__(self) -> "RunningSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def spawn(*, records: int, seed: int, tls_dir=None, apollo_limits: Mapping | None = None,
          in_child: bool = False, settings=None, dataset=None, clock=None,
          apollo_options: Mapping | None = None, salesforce_options: Mapping | None = None,
          apollo_api_key: str | None = None, admin_token: str | None = None,
          token_ttl: float = 30 * 86400):
    """Generate (or take) a dataset, load both stores and serve both APIs over HTTPS.

    Returns the running sandbox (:class:`RunningSandbox`; ``info()``, ``stop()``, and a
    context manager that stops it). ``records`` pairs from seed ``seed`` unless ``dataset``
    is given (anything with the generator's iterators). ``apollo_limits`` are Apollo's
    per-minute/hour/day limits (``None`` for a window: unlimited; default: Apollo's).
    ``settings`` overrides the dataset's Apollo settings. ``apollo_options`` go to
    :class:`~core.sandbox.apollo.api.ApolloApp` (``retry_after``, ``header_style``...),
    ``salesforce_options`` to the Salesforce app. The access token handed out lives
    ``token_ttl`` idle seconds.

    ``in_child=True`` serves from a child process instead
    (:class:`~core.sandbox.child.ChildSandbox`), so the servers and the caller never
    share one interpreter lock; it takes ``records``, ``seed``, ``tls_dir`` and
    ``apollo_limits`` only.
    """
    if in_child:
        others = (settings, dataset, clock, apollo_options, salesforce_options, apollo_api_key,
                  admin_token)
        if any(o is not None for o in others) or token_ttl != 30 * 86400:
            raise ValueError("a sandbox in a child process takes records, seed, tls_dir and "
                             "apollo_limits only")
        return ChildSandbox(records, seed, tls_dir=tls_dir, apollo_limits=apollo_limits)
    apollo_options = dict(apollo_options or {})
    if apollo_limits is not None:
        apollo_options["limits"] = dict(apollo_limits)
    started = time.monotonic()
    dataset = dataset if dataset is not None else _generate(records, seed)
    now = getattr(dataset, "now", None)
    clock = clock or SandboxClock(max(now, _utc_now()) if now else None)
    material = tls_module.generate(tls_dir)
    sf_store = SalesforceStore(clock=clock)
    apollo_store = ApolloStore(clock=clock)
    try:
        loaded = load_dataset(sf_store, apollo_store, dataset)
    except BaseException:
        sf_store.close()
        apollo_store.close()
        raise
    build_seconds = time.monotonic() - started
    chosen = coerce_settings(settings if settings is not None
                             else getattr(dataset, "settings", None))
    admin_token = admin_token or secrets.token_urlsafe(16)
    apollo_api_key = apollo_api_key or secrets.token_urlsafe(24)
    sf_server = start_salesforce(sf_store, material, admin_token=admin_token,
                                 **dict(salesforce_options or {}))
    apollo_server = start_apollo(apollo_store, material, admin_token=admin_token,
                                 api_key=apollo_api_key, seed=seed, **apollo_options)
    # Apollo last pulled one pull interval ago, so Salesforce edits made since (the
    # dataset's "in flight" ones) arrive on the next tick and older state stays as generated.
    last_pull = clock() - timedelta(minutes=chosen.apollo_pull_minutes)
    sync = ApolloSync(sf_store, apollo_store, chosen, instance_url=sf_server.base_url,
                      last_pull=last_pull)
    sync.attach(apollo_server.app)
    token = sf_server.app.issue_token(ttl=token_ttl)
    return RunningSandbox(salesforce_server=sf_server, apollo_server=apollo_server,
                          sync=sync, clock=clock, tls_material=material,
                          apollo_api_key=apollo_api_key, salesforce_access_token=token,
                          admin_token=admin_token, records=records, seed=seed, loaded=loaded,
                          build_seconds=build_seconds)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)
