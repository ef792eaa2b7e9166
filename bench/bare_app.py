"""The floor under our endpoint: a bare Flask POST that parses a JSON body and answers 202."""
from flask import Flask, request

app = Flask(__name__)


@app.post("/bare")
def bare():
    body = request.get_json()
    return {"response_id": str(len(body["answers"]))}, 202
