"""Wiring of the survey service (cosmicpython's bootstrap): its database, one store per feature, the
outbox, units of work and the scheduler. Views and use cases receive `SurveyServices`; tests build one
on an in-memory database (tests/fakes.py)."""
from dataclasses import dataclass, field

from pymongo.errors import PyMongoError

from services.survey.answers.store import Responses
from services.survey.appeals.store import Appeals
from services.survey.audit.store import AuditLog
from services.survey.demands.store import Demands
from services.survey.departments.store import Departments
from services.survey.enterprises.store import Enterprises
from services.survey.exclusions.store import Exclusions
from services.survey.flags.store import Flags
from services.survey.invitations.migration import hash_stored_tokens
from services.survey.invitations.store import Invitations
from services.survey.keys.store import Keys
from services.survey.keys.use_cases import ensure_admin_key
from services.survey.outbox import Outbox
from services.survey.releases.store import Releases
from services.survey.responses.store import AnswerArchive
from services.survey.scheduler import Scheduler
from services.survey.store import SurveyStore
from services.survey.surveys.store import Surveys
from services.survey.unit_of_work import UnitOfWork
from services.survey.visits.store import Visits
from shared import config as config_module
from shared import mongo
from shared.errors import Unavailable
from shared.keys import KeyRing
from shared.limits import SharedLimiter


@dataclass
class SurveyServices:
    config: config_module.Config
    store: SurveyStore  # the database; features go through the stores below
    keys: Keys
    departments: Departments
    enterprises: Enterprises
    surveys: Surveys
    invitations: Invitations
    responses: Responses
    archive: AnswerArchive  # answers read back: pages, exports, comments
    visits: Visits
    demands: Demands
    releases: Releases
    appeals: Appeals
    audit: AuditLog  # read only: entries are staged by services.survey.audit.records.record in a unit of work
    exclusions: Exclusions
    flags: Flags
    outbox: Outbox
    keyring: KeyRing
    limiter: SharedLimiter  # public requests per client, counted across processes
    scheduler: Scheduler
    transaction: object = mongo.run_transaction  # (client, work) → work(session) in one journaled transaction
    indexes_ready: bool = field(default=False)

    def unit_of_work(self):
        return UnitOfWork(self.store, self.outbox.publish_now, self.transaction)

    def ensure_indexes(self):
        # Unique indexes (key digests, survey versions, …) back rules that are never read-then-write:
        # no request is served before they exist.
        if not self.indexes_ready:
            try:
                self.store.ensure_indexes()
                self.flags.ensure_indexes()
                hash_stored_tokens(self.store.db, self.config)  # before any link is looked up by its digest
                ensure_admin_key(self)
            except PyMongoError as exc:
                raise Unavailable("database unavailable; try again shortly") from exc
            self.indexes_ready = True


def bootstrap(config=None, client=None, outbox=None, transaction=mongo.run_transaction):
    """The survey service's parts for `config`; `client`, `outbox` and `transaction` replace the real
    MongoDB client, outbox and transactions (tests)."""
    config = config or config_module.load()
    store = SurveyStore(config, client)
    stores = {"keys": Keys(store), "departments": Departments(store), "enterprises": Enterprises(store),
              "surveys": Surveys(store), "invitations": Invitations(store), "responses": Responses(store),
              "archive": AnswerArchive(store),
              "visits": Visits(store), "demands": Demands(store), "releases": Releases(store),
              "appeals": Appeals(store), "audit": AuditLog(store),
              "exclusions": Exclusions(store),
              "flags": Flags(store)}
    # The relay publishes what the unit of work stored: the generic outbox and every store whose records
    # carry their own event.
    event_collections = ["outbox", *(s.collection.name for s in stores.values() if getattr(s, "holds_events", False))]
    return SurveyServices(config=config, store=store, **stores,
                          outbox=outbox or Outbox(store, config, event_collections),
                          keyring=KeyRing(store.keys, config.admin_key,
                                          failures=SharedLimiter(store.db.limits, config.auth_failures, "auth")),
                          limiter=SharedLimiter(store.db.limits, config.rate_limit, "public"),
                          scheduler=Scheduler(store.leases, config.worker_id), transaction=transaction)
