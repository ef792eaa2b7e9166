"""The one place configuration is read: environment variables with defaults for 127.0.0.1."""
import os
import socket
from dataclasses import dataclass

# Every variable the processes read, with its default. docker-compose.yml must use only these names
# (tests/unit/test_compose.py checks it).
DEFAULTS = {
    "MANYI_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
    "MANYI_MONGO_URL": "mongodb://127.0.0.1:27017/?directConnection=true",
    "MANYI_SURVEY_DB": "manyi_survey",
    "MANYI_SCORES_DB": "manyi_scores",
    "MANYI_ADMIN_KEY": "",
    "MANYI_TOKEN_KEY": "",  # seals invitation tokens for reprinting; default: derived from MANYI_ADMIN_KEY
    "MANYI_PUBLIC_URL": "http://127.0.0.1:8001",
    "MANYI_SURVEY_URL": "",  # the survey service as the gateway reaches it (dashboard's release); default PUBLIC_URL
    "MANYI_MIN_N": "5",
    "MANYI_LAGGARD_BOTTOM": "3",
    "MANYI_LAGGARD_BELOW": "",
    "MANYI_INVITATION_DAYS": "30",
    "MANYI_RATE_LIMIT": "120",
    "MANYI_PROXY_HOPS": "0",
    "MANYI_BATCH_SIZE": "200",
    "MANYI_BATCH_LINGER_MS": "50",
    "MANYI_PREFETCH": "400",  # two batches: see services/scoring/consumer.py
    "MANYI_SCORING_HEALTH_PORT": "8003",
    "MANYI_WORKER_ID": "",
    "MANYI_GATEWAY_DB": "manyi_gateway",
    "MANYI_DEMAND_DAYS_ORDINARY": "7",
    "MANYI_DEMAND_DAYS_MAJOR": "30",
    "MANYI_BAD_RATING_WORKDAYS": "15",
    "MANYI_APPEAL_WORKDAYS": "5",
    "MANYI_OVERDUE_SWEEP_SECONDS": "10",
    # Webhooks (issue 17): subscriptions and deliveries live in their own database.
    "MANYI_WEBHOOKS_DB": "manyi_webhooks",
    "MANYI_WEBHOOK_ALLOW_PRIVATE": "0",
    "MANYI_WEBHOOK_TIMEOUT_SECONDS": "10",
    "MANYI_WEBHOOK_BACKOFF_SECONDS": "10",
    "MANYI_WEBHOOK_MAX_BACKOFF_SECONDS": "3600",
    "MANYI_WEBHOOK_RETRY_HOURS": "24",
    "MANYI_WEBHOOK_PAUSE_HOURS": "24",
    "MANYI_DELIVERY_HEALTH_PORT": "8004",
    "MANYI_VISIT_QUARTERS": "2",
    "MANYI_AUTH_FAILURES": "30",
    "MANYI_TRUSTED_PROXIES": "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16",
    # Suspicious-rating flags (issue 16): thresholds, why each default is what it is in docs/flags.md.
    "MANYI_FLAG_SALT": "",  # keys the hash of client addresses; unset: generated once, kept in the database
    "MANYI_FLAG_SCAN_SECONDS": "5",
    "MANYI_FLAG_SPEEDER_SECONDS": "2",
    "MANYI_FLAG_STRAIGHT_MIN": "6",
    "MANYI_FLAG_BURST_MAX": "5",
    "MANYI_FLAG_BURST_MINUTES": "10",
    "MANYI_FLAG_CADRE_SAME_MIN": "10",
    "MANYI_FLAG_VISIT_GAP_MINUTES": "10",
    "MANYI_FLAG_TOWNSHIP_GAP_MINUTES": "30",
    "MANYI_FLAG_WAVE_MIN_BAD": "5",
    "MANYI_FLAG_WAVE_P": "0.001",
    "MANYI_FLAG_WAVE_NORM_DAYS": "30",
}


@dataclass(frozen=True)
class FlagThresholds:
    """What makes a rating suspicious (services/survey/flags/rules.py); defaults explained in docs/flags.md."""
    speeder_seconds: float = 2.0  # seconds per answered question, from first opening the link to submitting
    straight_min: int = 6  # rating questions all at one level before an answer is straight-lined
    burst_max: int = 5  # answers from one client address allowed within burst_minutes
    burst_minutes: float = 10.0
    cadre_same_min: int = 10  # visits of one department one cadre rated at one level, in a quarter
    visit_gap_minutes: float = 10.0  # consecutive visits by one cadre to different enterprises
    township_gap_minutes: float = 30.0  # … in different townships
    wave_min_bad: int = 5  # 差评 in one department, township and hour before a wave can be flagged
    wave_p: float = 0.001  # how unlikely the hour's 差评 must be under the department's norm
    wave_norm_days: int = 30  # the norm: the department's 差评 share over this many days before


@dataclass(frozen=True)
class Config:
    amqp_url: str
    mongo_url: str
    survey_db: str
    scores_db: str
    admin_key: str | None
    token_key: str | None  # see services/survey/invitations/tokens.py
    public_url: str
    min_n: int
    laggard_bottom: int
    laggard_below: float | None
    invitation_days: int
    rate_limit: int  # requests per minute per client on public endpoints; 0 disables
    proxy_hops: int  # reverse proxies in front whose X-Forwarded-* headers are trusted (0: none)
    batch_size: int
    batch_linger_ms: int
    prefetch: int
    scoring_health_port: int
    worker_id: str
    gateway_db: str  # the gateway's own: dashboard sessions
    demand_days_ordinary: int  # default deadline after assignment (万人助万企: 7 days ordinary, 30 major)
    demand_days_major: int
    bad_rating_workdays: int  # 差评 rectification term, in Chinese working days
    appeal_workdays: int  # a department may appeal a 差评 (申诉) this many Chinese working days after it arrived
    overdue_sweep_seconds: int  # how often the survey service looks for demands past their deadline
    survey_url: str  # where the gateway's dashboard sends an admin's release (通报)
    webhooks_db: str  # subscriptions and deliveries (the survey service's API and the delivery worker)
    webhook_allow_private: bool  # let subscriptions target loopback, link-local and metadata addresses
    webhook_timeout: float  # a receiver answers 2xx within this many seconds, or the try failed
    webhook_backoff: float  # first retry delay; doubles each try, with jitter, up to the maximum
    webhook_max_backoff: float
    webhook_retry_hours: float  # a delivery is retried this long before it is marked failed (and kept)
    webhook_pause_hours: float  # a subscription whose receiver failed this long is paused
    delivery_health_port: int
    auth_failures: int  # wrong keys per client per minute before 429 (0: no limit)
    trusted_proxies: str  # CIDRs whose X-Forwarded-For is believed (with MANYI_PROXY_HOPS > 0)
    visit_quarters: int  # visits may be recorded for the current quarter and the ones before, this many in all
    flag_salt: str | None = None  # None: the survey service generates one and keeps it in its database
    flag_scan_seconds: int = 5  # how often the scheduler looks at new answers and visits for suspicious patterns
    flags: FlagThresholds = FlagThresholds()


def load(environ=None):
    env = {**DEFAULTS, **{k: v for k, v in (environ if environ is not None else os.environ).items()
                          if k in DEFAULTS}}
    return Config(
        amqp_url=env["MANYI_AMQP_URL"],
        mongo_url=env["MANYI_MONGO_URL"],
        survey_db=env["MANYI_SURVEY_DB"],
        scores_db=env["MANYI_SCORES_DB"],
        admin_key=env["MANYI_ADMIN_KEY"] or None,
        token_key=env["MANYI_TOKEN_KEY"] or None,
        public_url=env["MANYI_PUBLIC_URL"].rstrip("/"),
        min_n=int(env["MANYI_MIN_N"]),
        laggard_bottom=int(env["MANYI_LAGGARD_BOTTOM"]),
        laggard_below=float(env["MANYI_LAGGARD_BELOW"]) if env["MANYI_LAGGARD_BELOW"] else None,
        invitation_days=int(env["MANYI_INVITATION_DAYS"]),
        rate_limit=int(env["MANYI_RATE_LIMIT"]),
        proxy_hops=int(env["MANYI_PROXY_HOPS"]),
        batch_size=int(env["MANYI_BATCH_SIZE"]),
        batch_linger_ms=int(env["MANYI_BATCH_LINGER_MS"]),
        prefetch=int(env["MANYI_PREFETCH"]),
        scoring_health_port=int(env["MANYI_SCORING_HEALTH_PORT"]),
        worker_id=env["MANYI_WORKER_ID"] or f"{socket.gethostname()}-{os.getpid()}",
        gateway_db=env["MANYI_GATEWAY_DB"],
        demand_days_ordinary=int(env["MANYI_DEMAND_DAYS_ORDINARY"]),
        demand_days_major=int(env["MANYI_DEMAND_DAYS_MAJOR"]),
        bad_rating_workdays=int(env["MANYI_BAD_RATING_WORKDAYS"]),
        appeal_workdays=int(env["MANYI_APPEAL_WORKDAYS"]),
        overdue_sweep_seconds=int(env["MANYI_OVERDUE_SWEEP_SECONDS"]),
        survey_url=(env["MANYI_SURVEY_URL"] or env["MANYI_PUBLIC_URL"]).rstrip("/"),
        webhooks_db=env["MANYI_WEBHOOKS_DB"],
        webhook_allow_private=env["MANYI_WEBHOOK_ALLOW_PRIVATE"] in ("1", "true", "yes"),
        webhook_timeout=float(env["MANYI_WEBHOOK_TIMEOUT_SECONDS"]),
        webhook_backoff=float(env["MANYI_WEBHOOK_BACKOFF_SECONDS"]),
        webhook_max_backoff=float(env["MANYI_WEBHOOK_MAX_BACKOFF_SECONDS"]),
        webhook_retry_hours=float(env["MANYI_WEBHOOK_RETRY_HOURS"]),
        webhook_pause_hours=float(env["MANYI_WEBHOOK_PAUSE_HOURS"]),
        delivery_health_port=int(env["MANYI_DELIVERY_HEALTH_PORT"]),
        visit_quarters=int(env["MANYI_VISIT_QUARTERS"]),
        auth_failures=int(env["MANYI_AUTH_FAILURES"]),
        trusted_proxies=env["MANYI_TRUSTED_PROXIES"],
        flag_salt=env["MANYI_FLAG_SALT"] or None,
        flag_scan_seconds=int(env["MANYI_FLAG_SCAN_SECONDS"]),
        flags=FlagThresholds(
            speeder_seconds=float(env["MANYI_FLAG_SPEEDER_SECONDS"]), straight_min=int(env["MANYI_FLAG_STRAIGHT_MIN"]),
            burst_max=int(env["MANYI_FLAG_BURST_MAX"]), burst_minutes=float(env["MANYI_FLAG_BURST_MINUTES"]),
            cadre_same_min=int(env["MANYI_FLAG_CADRE_SAME_MIN"]),
            visit_gap_minutes=float(env["MANYI_FLAG_VISIT_GAP_MINUTES"]),
            township_gap_minutes=float(env["MANYI_FLAG_TOWNSHIP_GAP_MINUTES"]),
            wave_min_bad=int(env["MANYI_FLAG_WAVE_MIN_BAD"]), wave_p=float(env["MANYI_FLAG_WAVE_P"]),
            wave_norm_days=int(env["MANYI_FLAG_WAVE_NORM_DAYS"])),
    )
