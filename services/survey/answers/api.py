"""`POST /api/v1/responses`: an enterprise's answers (no key: the personal token is the credential)."""
from flask import request

from services.survey.answers.accept import accept
from services.survey.answers.schemas import ResponseAcceptedSchema, ResponseBodySchema
from services.survey.flags.use_cases import client_hash, device_hash
from services.survey.web import services
from shared.web import Blueprint

blp = Blueprint("responses", __name__, url_prefix="/api/v1", description="Answers (no key: the token)")


@blp.route("/responses", methods=["POST"])
@blp.arguments(ResponseBodySchema)
@blp.response(202, ResponseAcceptedSchema)
@blp.alt_response(404, description="unknown token")
@blp.alt_response(409, description="token already used with different answers")
@blp.alt_response(410, description="token expired or survey not open")
@blp.doc(security=[])
def submit(body):
    """Submit an enterprise's answers; 202 only once they are durable. The identical resend gets the same 202."""
    svc = services()
    return {"response_id": accept(svc, body["token"], body["answers"], body["contact_ok"], body.get("reasons"),
                                  client_hash(svc, request.remote_addr), device_hash(svc, request.cookies))}
