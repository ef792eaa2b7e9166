"""Signing in and out of the console, and its home page (each role lands on its own work)."""
from flask import current_app, g, redirect, request, url_for

from services.survey.console.store import COOKIE, LIFETIME
from services.survey.console.web import CONSOLE_ROLES, page, render, same_origin, sessions
from services.survey.web import services
from shared.limits import SharedLimiter

HOME = {"admin": "console.demands", "department": "console.queue", "cadre": "console.cadre"}


def login_page(error=None, status=200):
    return render("login.html", error=error, next=request.values.get("next", "")), status


def safe_next(target):
    """Only a path inside the console: a sign-in link must not send the user to another site."""
    return target if target.startswith("/console") and not target.startswith("//") else url_for("console.home")


@page.get("")
@page.get("/")
def home():
    if g.key is None:
        return redirect(url_for("console.login"), 303)
    return redirect(url_for(HOME.get(g.key["role"], "console.login")), 303)


@page.get("/login")
def login():
    if g.key is not None:
        return redirect(url_for("console.home"), 303)
    return login_page()


@page.post("/login")
def login_post():
    # Both brakes count in MongoDB, so they hold across every process and host (shared/limits.py): sign-in
    # attempts per client, and wrong keys per client in the same count as the API's (one budget of guesses).
    svc, client = services(), request.remote_addr or "-"
    limiter = current_app.extensions.setdefault(
        "manyi.console_limiter", SharedLimiter(svc.store.db.limits, svc.config.rate_limit, "console-login"))
    if not same_origin():
        return login_page("请求被拒绝：来源不符。", 403)
    failures = svc.keyring.failures
    if not limiter.hit(client) or (failures and failures.over(client)):
        return login_page("尝试过于频繁，请一分钟后再试。", 429)
    key = request.form.get("key", "").strip()
    record = svc.keyring.resolve(key) if key else None
    if record is None:
        if failures:
            failures.hit(client)
        return login_page("密钥无效，请核对后重试。", 401)
    if record["role"] not in CONSOLE_ROLES:
        return login_page("门户密钥请登录看板（/dashboard），控制台供营商办、责任单位和走访干部使用。", 403)
    response = redirect(safe_next(request.form.get("next", "")), 303)
    response.set_cookie(COOKIE, sessions().open(key), max_age=int(LIFETIME.total_seconds()), httponly=True,
                        samesite="Strict", secure=request.is_secure, path="/")
    return response


@page.post("/logout")
def logout():
    token = request.cookies.get(COOKIE)
    if token:
        sessions().close(token)
    response = redirect(url_for("console.login"), 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return response
