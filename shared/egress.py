"""Where webhooks may POST: http(s) only, never the machine itself, link-local or cloud metadata addresses.

Checked when a subscription is made or changed, and again before every try (a name may be re-pointed
after it was checked). Private ranges (10/8, 192.168/16, …) stay allowed: a county's 12345 hotline
system and its portals often live on the government intranet. MANYI_WEBHOOK_ALLOW_PRIVATE=1 lifts it all.
"""
import ipaddress
import socket
from urllib.parse import urlsplit

# Cloud metadata services outside the link-local range (Alibaba Cloud; AWS over IPv6).
METADATA = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}


def refused_address(address):
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local (cloud metadata lives here)"
    if ip in METADATA:
        return "a cloud metadata service"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "not a unicast address"
    return None


def resolve(host, port):
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


def url_problem(url, allow_private=False, resolver=resolve):
    """None when `url` may receive webhooks, else why not (English; the API adds the Chinese)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return "only http:// and https:// URLs"
    if not parts.hostname:
        return "the URL names no host"
    if parts.username or parts.password:
        return "credentials in the URL would be shown to every admin; put them in the path or query"
    if allow_private:
        return None
    try:
        addresses = resolver(parts.hostname, port)
    except (OSError, UnicodeError) as exc:
        return f"the host does not resolve: {exc}"
    for address in addresses:
        why = refused_address(address)
        if why:
            return f"{parts.hostname} resolves to {address}: {why}"
    return None
