"""Invitation tokens (pure logic and use cases on the in-memory database): the digest, the sealed copy, and
what happens when a link cannot be shown again (no token key, or a changed one)."""
import base64
import hashlib

import pytest

from services.survey.answers.accept import accept
from services.survey.departments.use_cases import create_department
from services.survey.invitations import printing
from services.survey.invitations.tokens import TokenSeal, invitation_id, new_token, seal_of
from services.survey.invitations.use_cases import invitation_rows, invitation_url, invite
from shared import config as config_module
from shared.errors import Conflict, Gone
from tests.fakes import fake_services
from tests.unit.test_use_cases import open_survey_with, registered


def test_a_token_is_192_random_bits_and_its_id_is_its_sha256():
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000 and all(len(base64.urlsafe_b64decode(t)) == 24 for t in tokens)
    token = next(iter(tokens))
    assert invitation_id(token) == hashlib.sha256(token.encode()).hexdigest() != token


def test_the_sealed_copy_opens_only_with_its_key_and_on_its_invitation():
    seal, token = TokenSeal("k1"), new_token()
    sealed = seal.seal(token, invitation_id(token))
    assert token not in sealed and seal.open(sealed, invitation_id(token)) == token
    assert TokenSeal("k2").open(sealed, invitation_id(token)) is None  # another key
    other = new_token()
    assert seal.open(sealed, invitation_id(other)) is None  # moved onto another invitation
    raw = bytearray(base64.b64decode(sealed))
    raw[-1] ^= 1
    assert seal.open(base64.b64encode(bytes(raw)).decode(), invitation_id(token)) is None  # tampered
    assert seal.open(None, invitation_id(token)) is None and seal.open("not base64!", invitation_id(token)) is None


def test_the_key_is_the_token_key_else_derived_from_the_admin_key_else_none():
    token = new_token()
    by_admin = seal_of(config_module.load({"MANYI_ADMIN_KEY": "mk_a"}))
    by_token_key = seal_of(config_module.load({"MANYI_ADMIN_KEY": "mk_a", "MANYI_TOKEN_KEY": "t"}))
    sealed = by_token_key.seal(token, invitation_id(token))
    assert by_admin.open(sealed, invitation_id(token)) is None
    assert TokenSeal("t").open(sealed, invitation_id(token)) == token
    assert seal_of(config_module.load({})) is None
    # Setting a token key later: what the admin key sealed still opens, new copies use the token key.
    earlier = by_admin.seal(token, invitation_id(token))
    assert by_token_key.open(earlier, invitation_id(token)) == token


def test_a_rotated_key_seals_with_the_new_and_opens_with_either():
    token = new_token()
    inv_id = invitation_id(token)
    old = seal_of(config_module.load({"MANYI_TOKEN_KEY": "old"})).seal(token, inv_id)
    rotated = seal_of(config_module.load({"MANYI_TOKEN_KEY": "new,old"}))
    assert rotated.open(old, inv_id) == token
    fresh = rotated.seal(token, inv_id)
    assert TokenSeal("new").open(fresh, inv_id) == token and TokenSeal("old").open(fresh, inv_id) is None


def test_without_a_key_links_are_shown_when_issued_and_asking_again_reissues_them():
    svc = fake_services(MANYI_ADMIN_KEY="")
    create_department(svc, "market", "市场监管局")
    survey_id, ent = open_survey_with(svc), registered(svc)
    (first,) = invite(svc, survey_id, [ent["code"]])
    assert first["token"] and first["url"].endswith("/s/" + first["token"])
    (row,) = invitation_rows(svc, survey_id)
    assert (row["token"], row["url"]) == (None, None)
    assert invitation_url(svc, first["token"]).endswith(first["token"])  # whoever has the token may print it
    with pytest.raises(Conflict):
        invitation_url(svc, row["id"])
    sheet = printing.invitations_xlsx("问卷", [row])
    assert sheet.startswith(b"PK") and printing.invitations_pdf("问卷", [row]).startswith(b"%PDF")

    (second,) = invite(svc, survey_id, [ent["code"]])  # reprinting = a new link; the old one ends now
    assert second["token"] not in (None, first["token"])
    with pytest.raises(Gone):
        accept(svc, first["token"], {"q1": 4})
    response_id = accept(svc, second["token"], {"q1": 4})
    (third,) = invite(svc, survey_id, [ent["code"]])  # a used link is given back, though it cannot be shown
    assert (third["token"], third["url"]) == (None, None)
    assert svc.responses.exists(response_id)
