"""What every console page shares: its blueprint, who is signed in, CSRF and origin checks, headers.

Pages are rendered on the server (Jinja); every form is a plain HTML form that works without scripts.
htmx (vendored, static/vendor/htmx) only refreshes parts in place: filters and the progress figures.
A POST is refused unless it comes from this origin and carries the session's CSRF token.
"""
import functools
import re
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from services.survey.console.store import COOKIE, DATABASE_DOWN, csrf_matches
from services.survey.web import UPLOAD_LIMIT
from shared.domain import LEVEL_NAMES, SHANGHAI
from shared.errors import Refused, Unavailable

page = Blueprint("console", __name__, url_prefix="/console")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-ancestors 'self'; form-action 'self'; base-uri 'none'")
ROLE_NAMES = {"admin": "营商办管理员", "department": "责任单位", "cadre": "走访干部", "portal": "门户", "system": "系统"}
CONSOLE_ROLES = ("admin", "department", "cadre")
UPLOADS = ("console.enterprise_import_post", "console.survey_import")


def sessions():
    return current_app.extensions["manyi.console"]


def same_origin():
    """A form post from another site carries its Origin (or at least its Referer); refuse those."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


@page.before_request
def signed_in():
    """Who is signed in (g.session, g.key); a POST must be same-origin and carry the CSRF token."""
    g.session, g.key = sessions().lookup(request.cookies.get(COOKIE))
    if request.endpoint in UPLOADS:  # before the form is read below
        request.max_content_length = request.max_form_memory_size = UPLOAD_LIMIT
    if request.method == "POST" and request.endpoint != "console.login_post":
        if not same_origin() or g.session is None or not csrf_matches(g.session, request.form.get("csrf")):
            return refused(403, "请求被拒绝：来源或表单校验码不符（请从控制台页面重新提交）。")
    return None


@page.after_request
def secured(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


def refused(status, text):
    heading = {403: "无法访问", 404: "未找到"}.get(status, "出错了")
    return render("message.html", heading=heading, text=text), status


def for_roles(*roles):
    """The page needs a session whose key has one of `roles`; otherwise sign in (or 403)."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if g.key is None:
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")), 303)
            if g.key["role"] not in roles:
                return refused(403, "您的密钥无权访问此页面。")
            return view(*args, **kwargs)
        return inner
    return wrap


def render(template, **context):
    return render_template(f"console/{template}", key=g.get("key"), csrf=(g.get("session") or {}).get("csrf"),
                           role_names=ROLE_NAMES, **context)


def attempt(use_case, *args, **kwargs):
    """(result, None) or (None, {"message", "errors"}) when the use case refuses as the JSON API would.

    The use cases refuse with shared.errors (the API's 4xx); the console shows the same message and errors
    on the page instead.
    """
    try:
        return use_case(*args, **kwargs), None
    except Refused as refusal:
        return None, {"message": problem_text(refusal.message), "errors": refusal.errors, "status": refusal.code}


STATUS_NAMES = {"received": "待交办", "assigned": "办理中", "resolved": "已办结待回访", "closed": "已销号"}
ACTION_NAMES = {"receive": "受理", "assign": "交办", "progress": "进展", "resolve": "办结", "callback": "回访",
                "appeal": "申诉", "appeal_upheld": "申诉成立", "appeal_rejected": "申诉驳回"}
CATEGORY_NAMES = {"bad_rating": "差评整改"}


@page.app_template_filter("when")
def when(value, fmt="%Y-%m-%d %H:%M"):
    """A moment as the county reads it (Asia/Shanghai)."""
    return value.astimezone(SHANGHAI).strftime(fmt) if value else "—"


@page.app_template_filter("percent")
def percent(value):
    return "—" if value is None else f"{value * 100:.1f}%"


@page.app_context_processor
def names():
    return {"status_names": STATUS_NAMES, "action_names": ACTION_NAMES, "category_names": CATEGORY_NAMES,
            "value_names": VALUE_NAMES, "attribute_names": ATTRIBUTE_NAMES, "level_names": LEVEL_NAMES}


VALUE_NAMES = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型", "state": "国有", "private": "民营",
               "collective": "集体", "other": "其他", "domestic": "内资", "foreign": "外资（含港澳台）"}
ATTRIBUTE_NAMES = {"scale": "规模", "ownership": "所有制", "capital": "资本来源", "township": "乡镇", "industry": "行业"}


@page.errorhandler(404)
def not_found(_):
    return refused(404, "找不到该页面或记录。")


@page.errorhandler(403)
def forbidden(_):
    return refused(403, "您的密钥无权进行此操作。")


@page.errorhandler(413)
def too_large(_):
    return refused(413, "文件过大（上限 20 MB）。")


FIELD_NAMES = {"name": "名称", "scale": "企业规模", "ownership": "所有制", "capital": "内外资", "township": "乡镇",
               "industry": "行业", "code": "代码", "department": "责任单位", "deadline": "办理期限", "note": "进展",
               "resolution": "办结情况", "level": "评价", "comment": "回访记录", "role": "角色", "period": "季度",
               "title": "标题", "status": "状态", "file": "文件", "header": "表头", "questions": "题目",
               "enterprises": "企业", "expires_at": "有效期", "reason": "申诉理由", "decision": "复核结论",
               "demand": "诉求", "_schema": "表单"}
MESSAGES = [(re.compile(r"^Missing data for required field\.$"), "必填"),
            (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), r"长度须为 \1–\2 个字符"),
            (re.compile(r"^Shorter than minimum length 1\.$"), "不能为空"),
            (re.compile(r"^Must be one of: .*$"), "取值无效"),
            (re.compile(r"^Not a valid (date|datetime)\.$"), "日期格式不正确"),
            (re.compile(r"^Not a valid integer\.$"), "须为整数"),
            (re.compile(r"^Unknown field\.$"), "未知字段"),
            (re.compile(r"^String does not match expected pattern\.$"), "格式不正确")]
CJK = re.compile(r"[\u4e00-\u9fff]")


@page.app_template_filter("field_name")
def field_name(field):
    field = str(field)
    if field.startswith("row "):
        return f"第 {field[4:]} 行"
    return FIELD_NAMES.get(field, field)


@page.app_template_filter("problem")
def problem_text(problem):
    """An API error as one Chinese line: [中文, English] pairs show their Chinese half; marshmallow's English
    messages are translated where they are the usual ones."""
    if isinstance(problem, dict):
        return "；".join(f"{field_name(k)}：{problem_text(v)}" for k, v in problem.items())
    if isinstance(problem, (list, tuple)):
        if problem and isinstance(problem[0], str) and CJK.search(problem[0]):
            return problem[0]
        return "；".join(problem_text(p) for p in problem)
    text = str(problem)
    for pattern, chinese in MESSAGES:
        if pattern.match(text):
            return pattern.sub(chinese, text)
    return text


@page.errorhandler(DATABASE_DOWN)
@page.errorhandler(Unavailable)
def database_down(_):
    """The database is down: say so and ask to retry (503 with Retry-After), never a bare 500."""
    g.session = g.key = None  # nothing of the session can be read now
    body, status = refused(503, "数据库暂时无法访问，请稍后刷新重试。")
    return body, status, {"Retry-After": "10"}
