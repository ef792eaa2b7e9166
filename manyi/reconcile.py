"""`manyi check` end to end and `manyi replay-dead`: what the survey service accepted against what scoring applied.

Accepted: every record in `manyi_survey` that carries an event (a response, a visit, a demand, an outbox
entry — the relay's collections, services/survey/bootstrap.py) and so was answered 202. Applied: the message ids
in `manyi_scores.processed`. An accepted message that was not applied is somewhere: still in the outbox
(not yet published), in `scoring.dead` (with the reason the worker gave), or nowhere — lost, unless
`scoring.events` still holds messages in flight. This command only reads both databases, as an operator
would; no service reads another's database.
"""
from dataclasses import dataclass

import pika

from shared import amqp, mongo

STRIPPED_HEADERS = (amqp.REASON_HEADER, amqp.ROUTING_KEY_HEADER, "x-death", "x-delivery-count",
                    "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
                    "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason")
REPLAYED_HEADER = "x-manyi-replayed"


@dataclass(frozen=True)
class Accepted:
    message_id: str
    collection: str
    record_id: str
    type: str
    published: bool


@dataclass(frozen=True)
class Missing:
    accepted: Accepted
    where: str    # "outbox" | "dead" | "in flight" | "nowhere"
    detail: str


def event_collections(config):
    """The collections whose records carry events, as the survey service's wiring names them."""
    from services.survey.bootstrap import bootstrap
    return bootstrap(config).outbox.collections


def accepted_messages(survey_db, collections, period=None):
    """Every event the survey service answered 202 for (optionally of one period)."""
    # Only the events scoring consumes (its queue's bindings); others (survey.opened, …) go to webhooks only.
    query = {"message.id": {"$exists": True}, "message.type": {"$in": list(amqp.ROUTING_KEYS)}}
    if period:
        query["message.data.period"] = period
    for collection in collections:
        for record in survey_db[collection].find(query, {"message.id": 1, "message.type": 1, "published": 1}):
            yield Accepted(record["message"]["id"], collection, str(record["_id"]), record["message"].get("type", "?"),
                           bool(record.get("published")))


def applied_ids(scores_db, ids):
    return {d["_id"] for d in mongo.find_in(scores_db.processed, "_id", ids, {"_id": 1})}


def classify(accepted, applied, dead, queued):
    """What is missing and where: `dead` = {message id: reason}; `queued` = messages waiting in scoring.events.

    Pure, so the rules are tested on their own: unpublished → outbox; dead-lettered → dead; published but
    neither applied nor dead → in flight while the queue holds messages, nowhere once it is empty.
    """
    missing = []
    for record in accepted:
        if record.message_id in applied:
            continue
        if record.message_id in dead:
            missing.append(Missing(record, "dead", dead[record.message_id]))
        elif not record.published:
            missing.append(Missing(record, "outbox", f"unpublished {record.collection} record {record.record_id}"))
        elif queued:
            missing.append(Missing(record, "in flight", f"published; scoring.events holds {queued} messages"))
        else:
            missing.append(Missing(record, "nowhere", "published, never applied, not dead-lettered"))
    return missing


def _reason(headers):
    value = (headers or {}).get(amqp.REASON_HEADER)
    if value is None and (headers or {}).get("x-death"):
        return f"dead-lettered by the broker ({headers['x-death'][0].get('reason', '?')}, delivery limit)"
    return value.decode(errors="replace") if isinstance(value, bytes) else (value or "?")


def dead_letters(amqp_url):
    """{message id: reason} of every message in scoring.dead, left in place (taken unacked, then returned)."""
    connection = amqp.connect(amqp_url)
    try:
        channel = connection.channel()
        amqp.declare_topology(channel)
        found = {}
        while True:
            method, props, _body = channel.basic_get(amqp.DEAD_QUEUE, auto_ack=False)
            if method is None:
                break
            found[props.message_id] = _reason(props.headers)
        channel.close()  # every message taken goes back, unacked
        return found
    finally:
        if connection.is_open:
            connection.close()


def check_delivery(config, period=None, out=print):
    """Print what is missing; returns the list."""
    client = mongo.client(config.mongo_url)
    accepted = list(accepted_messages(client[config.survey_db], event_collections(config), period))
    applied = applied_ids(client[config.scores_db], [a.message_id for a in accepted])
    dead = dead_letters(config.amqp_url)
    queued = amqp.queue_depths(config.amqp_url)[amqp.QUEUE]
    missing = classify(accepted, applied, dead, queued)
    for m in missing[:200]:
        out(f"✗ {m.accepted.type} {m.accepted.message_id} ({m.accepted.collection} {m.accepted.record_id}): "
            f"{m.where}: {m.detail}")
    by_where = {}
    for m in missing:
        by_where[m.where] = by_where.get(m.where, 0) + 1
    summary = ", ".join(f"{n} {where}" for where, n in sorted(by_where.items())) or "none"
    out(f"manyi check: {len(accepted)} accepted, {len(accepted) - len(missing)} applied, "
        f"{len(missing)} missing ({summary}); scoring.dead holds {len(dead)}")
    return missing


def replay_dead(config, ids=None, out=print):
    """Publish dead-lettered messages (all, or those whose message id is in `ids`) to manyi.events again.

    Idempotent: the worker skips a message id it already applied, so replaying twice, or replaying a
    message that was applied meanwhile, changes nothing. Each message leaves scoring.dead only once its
    republication is confirmed; one that fails again comes back with its new reason.
    """
    wanted = set(ids or ())
    connection = amqp.connect(config.amqp_url)
    replayed = 0
    try:
        channel = connection.channel()
        amqp.declare_topology(channel)
        channel.confirm_delivery()
        while True:
            method, props, body = channel.basic_get(amqp.DEAD_QUEUE, auto_ack=False)
            if method is None:
                break
            if wanted and props.message_id not in wanted:
                continue  # left unacked: back in scoring.dead when the channel closes
            headers = dict(props.headers or {})
            routing_key = headers.get(amqp.ROUTING_KEY_HEADER)
            if isinstance(routing_key, bytes):
                routing_key = routing_key.decode()
            if routing_key not in amqp.ROUTING_KEYS:
                routing_key = method.routing_key if method.routing_key in amqp.ROUTING_KEYS else props.type
            clean = {k: v for k, v in headers.items() if k not in STRIPPED_HEADERS}
            clean[REPLAYED_HEADER] = int(headers.get(REPLAYED_HEADER) or 0) + 1
            channel.basic_publish(amqp.EXCHANGE, routing_key or "", body, pika.BasicProperties(
                delivery_mode=pika.DeliveryMode.Persistent, content_type=props.content_type,
                message_id=props.message_id, type=props.type, headers=clean), mandatory=True)
            channel.basic_ack(method.delivery_tag)
            replayed += 1
            out(f"replayed {props.message_id} ({routing_key})")
        channel.close()
    finally:
        if connection.is_open:
            connection.close()
    out(f"manyi replay-dead: {replayed} replayed")
    return replayed
