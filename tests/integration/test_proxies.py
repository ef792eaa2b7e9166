"""Behind a TLS proxy (MANYI_PROXY_HOPS): clients are told apart by X-Forwarded-For, and only then."""

import pytest


def answer(client, forwarded_for):
    return client.post("/api/v1/responses", json={"token": "no-such-token", "answers": {}},
                       headers={"X-Forwarded-For": forwarded_for}).status_code


@pytest.fixture
def limited(make_survey_app):
    return lambda hops: make_survey_app(rate_limit=2, proxy_hops=hops).test_client()


def test_behind_one_proxy_each_client_has_its_own_rate_limit(limited):
    client = limited(1)
    assert [answer(client, "203.0.113.7") for _ in range(3)] == [404, 404, 429]
    assert answer(client, "198.51.100.9") == 404  # another enterprise behind the same proxy


def test_without_proxies_a_forged_header_does_not_escape_the_limit(limited):
    client = limited(0)
    assert [answer(client, f"203.0.113.{i}") for i in range(3)] == [404, 404, 429]


def test_a_client_reaching_the_process_directly_cannot_forge_its_address(limited):
    client = limited(1)
    direct = {"REMOTE_ADDR": "203.0.113.9"}  # not a trusted proxy: its X-Forwarded-For means nothing
    codes = [client.post("/api/v1/responses", json={"token": "t", "answers": {}}, environ_base=direct,
                         headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(3)]
    assert codes == [404, 404, 429]


def test_the_right_most_untrusted_hop_is_the_client(limited):
    client = limited(1)
    # the proxy appends the real peer; whatever the client wrote before it is ignored
    codes = [answer(client, f"10.9.9.{i}, 203.0.113.7") for i in range(3)]
    assert codes == [404, 404, 429]
