"""The floor under our endpoint: a bare Flask POST that parses a JSON body and answers 202."""
from flask import Flask, request

app = Flask(__name__)


@app.post("/bare")
def bare():
    body = request.get_json()
    return {"response_id": str(len(body["answers"]))}, 202


# The floor under a gateway read: the same JSON body, loaded once, served by a bare Flask GET.
_BODY = None


@app.get("/bare")
def bare_get():
    global _BODY
    if _BODY is None:
        import json
        import os
        with open(os.environ["BARE_JSON"], encoding="utf-8") as f:
            _BODY = json.load(f)
    return _BODY
