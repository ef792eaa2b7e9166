"""The cadre's mobile page `GET /visit`: record a visit (走访) on a phone, through `POST /api/v1/visits`.

The page is static; it talks to the JSON API with the cadre's key. The key is typed once and kept in
the phone's localStorage (the browser's storage for this site only), so a cadre in the field is not
asked again on every visit, and "退出" forgets it. Nothing else is loaded: no CDN, no third-party
script that could read the key, and every text from the server is inserted as text, never as HTML.
"""
from flask import Blueprint, Response

page = Blueprint("visit_page", __name__)

HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>企业走访记录</title>
<style>
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,"WenQuanYi Micro Hei",sans-serif;background:#f4f5f7;color:#222}
header{background:#b71c1c;color:#fff;padding:10px 14px;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:17px;margin:0}header button{background:none;border:1px solid #fff;color:#fff;border-radius:4px;padding:2px 8px}
main{padding:10px;max-width:640px;margin:0 auto}
section{background:#fff;border-radius:8px;padding:10px 12px;margin-bottom:10px}
h2{font-size:15px;margin:0 0 8px}label{display:block;font-size:13px;color:#555;margin:6px 0 2px}
input,select,textarea{width:100%;font:inherit;padding:8px;border:1px solid #ccc;border-radius:6px;background:#fff}
textarea{min-height:64px}.hint{font-size:12px;color:#777}
.list{max-height:180px;overflow:auto;border:1px solid #eee;border-radius:6px;margin-top:4px}
.list button{display:block;width:100%;text-align:left;border:0;border-bottom:1px solid #eee;background:#fff;padding:8px;font:inherit}
.list small{color:#888}.chosen{background:#fff3e0;padding:6px 8px;border-radius:6px;margin-top:6px}
.dept{border-top:1px solid #eee;padding:8px 0}.dept:first-of-type{border-top:0}.dept b{font-weight:600}
.levels{display:flex;gap:4px;margin-top:4px}.levels button{flex:1;min-width:0;border:1px solid #ccc;border-radius:6px;background:#fafafa;padding:4px 0;font-size:15px;line-height:1.2}
.levels button small{display:block;font-size:10px;color:#666}.levels button.on{background:#1565c0;color:#fff;border-color:#1565c0}
.levels button.on small{color:#e3f2fd}.levels button.on.bad{background:#c62828;border-color:#c62828}
.demand{border:1px dashed #bbb;border-radius:6px;padding:6px 8px;margin-bottom:8px}
.row{display:flex;gap:6px}.row>div{flex:1;min-width:0}
.primary{width:100%;background:#b71c1c;color:#fff;border:0;border-radius:8px;padding:12px;font-size:16px}
.secondary{background:#fff;border:1px solid #b71c1c;color:#b71c1c;border-radius:6px;padding:6px 10px;font:inherit}
.remove{float:right;border:0;background:none;color:#c62828;font:inherit}
.error{color:#c62828;font-size:13px}.ok{background:#e8f5e9;color:#1b5e20;padding:10px;border-radius:8px;overflow-wrap:anywhere}
[hidden]{display:none!important}
</style></head>
<body>
<header><h1>企业走访记录</h1><button id="logout" hidden>退出</button></header>
<main>
<section id="login" hidden>
  <h2>请输入走访干部密钥</h2>
  <p class="hint">密钥由营商办发放，只需输入一次，保存在本机浏览器中；点“退出”即清除。</p>
  <input id="key" type="password" autocomplete="off" placeholder="mk_…">
  <p id="login-error" class="error"></p>
  <button class="primary" id="save-key">确定</button>
</section>
<form id="visit" hidden novalidate>
  <section>
    <h2>1. 走访企业</h2>
    <input id="search" type="search" placeholder="输入企业名称或统一社会信用代码搜索">
    <div id="matches" class="list" hidden></div>
    <div id="chosen" class="chosen" hidden></div>
    <p class="error" data-error="enterprise"></p>
    <label for="visited-at">走访时间</label>
    <input id="visited-at" type="datetime-local">
    <p class="error" data-error="visited_at"></p>
  </section>
  <section>
    <h2>2. 部门评价 <span class="hint">（选填，1–2 分将自动生成差评整改诉求）</span></h2>
    <div id="departments"></div>
    <p class="error" data-error="ratings"></p>
  </section>
  <section>
    <h2>3. 企业诉求</h2>
    <div id="demands"></div>
    <p class="error" data-error="demands"></p>
    <button type="button" class="secondary" id="add-demand">＋ 添加诉求</button>
  </section>
  <p id="form-error" class="error"></p>
  <button class="primary" type="submit" id="submit">提交走访记录</button>
</form>
<section id="done" hidden><div class="ok" id="done-text"></div><br>
  <button class="primary" id="again">记录下一次走访</button></section>
</main>
<template id="demand-template">
  <div class="demand"><button type="button" class="remove">删除</button>
    <label>责任单位</label><select name="department"></select>
    <div class="row"><div><label>类别</label><select name="category">
      <option>政策兑现</option><option>融资</option><option>用工</option><option>审批</option>
      <option>要素保障</option><option>基础设施</option><option>法律服务</option><option>其他</option></select></div>
      <div><label>紧急程度</label><select name="urgency"><option value="ordinary">一般（7天）</option>
      <option value="major">重大（30天）</option></select></div></div>
    <label>诉求内容</label><textarea name="text" maxlength="2000" placeholder="企业反映的问题和诉求"></textarea>
    <p class="error"></p></div>
</template>
<script>
"use strict";
const KEY = "manyi.cadreKey";
const LEVELS = [[5, "非常满意"], [4, "满意"], [3, "基本满意"], [2, "不满意"], [1, "非常不满意"]];
const $ = (id) => document.getElementById(id);
let departments = [], enterprises = [], chosen = null, visitId = null;

function api(method, path, body) {
  return fetch(path, {method, headers: {"Authorization": "Bearer " + localStorage.getItem(KEY),
    "Content-Type": "application/json"}, body: body === undefined ? undefined : JSON.stringify(body)})
    .then((r) => r.json().catch(() => ({})).then((json) => ({status: r.status, json})));
}
function el(tag, text, cls) { const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }
function show(id) { for (const s of ["login", "visit", "done"]) $(s).hidden = s !== id; $("logout").hidden = id === "login"; }
function nowLocal() { const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); return d.toISOString().slice(0, 16); }
function errText(v) { return Array.isArray(v) ? v.join("；") : typeof v === "object" ? Object.values(v).map(errText).join("；") : String(v); }

async function start() {
  if (!localStorage.getItem(KEY)) { show("login"); return; }
  const [d, e] = await Promise.all([api("GET", "/api/v1/departments"), api("GET", "/api/v1/enterprises")]);
  if (d.status === 401 || d.status === 403 || e.status === 403) {
    localStorage.removeItem(KEY); show("login");
    $("login-error").textContent = "密钥无效或不是走访干部密钥，请重新输入。"; return;
  }
  departments = d.json.departments || []; enterprises = e.json.enterprises || [];
  renderDepartments(); $("demands").replaceChildren(); $("visited-at").value = nowLocal();
  chosen = null; $("chosen").hidden = true; $("search").value = ""; show("visit");
  // One id per visit, so that pressing 提交 again after a network failure cannot record it twice.
  visitId = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function renderDepartments() {
  const box = $("departments"); box.replaceChildren();
  for (const dep of departments) {
    const row = el("div", null, "dept"); row.dataset.department = dep.code;
    row.append(el("b", dep.name));
    const levels = el("div", null, "levels");
    for (const [level, name] of LEVELS) {
      const b = el("button", String(level)); b.type = "button"; b.dataset.level = level;
      b.setAttribute("aria-label", dep.name + " " + name); b.append(el("small", name));
      b.addEventListener("click", () => {
        const on = !b.classList.contains("on");
        levels.querySelectorAll("button").forEach((x) => x.classList.remove("on", "bad"));
        if (on) { b.classList.add("on"); if (level <= 2) b.classList.add("bad"); }
        comment.hidden = consent.hidden = !(on && level <= 2);
      });
      levels.append(b);
    }
    const comment = el("input"); comment.placeholder = "请说明不满意的原因（将交责任单位整改）"; comment.hidden = true;
    comment.name = "comment"; comment.style.marginTop = "4px";
    // 差评 identity reaches the rated department only if the enterprise agrees (asked aloud by the cadre).
    const consent = el("label", null, "consent"); consent.hidden = true;
    const agree = el("input"); agree.type = "checkbox"; agree.name = "contact_ok";
    consent.append(agree, " 企业同意责任单位知道是哪家企业、就整改联系企业（实名回访）；不勾选则对该单位匿名");
    row.append(levels, comment, consent); box.append(row);
  }
}

$("search").addEventListener("input", () => {
  const q = $("search").value.trim().toLowerCase(), list = $("matches"); list.replaceChildren();
  if (!q) { list.hidden = true; return; }
  const found = enterprises.filter((x) => x.name.toLowerCase().includes(q) || x.code.toLowerCase().includes(q)).slice(0, 30);
  for (const ent of found) {
    const b = el("button", ent.name); b.type = "button"; b.append(el("br"), el("small", ent.code + " · " + ent.township));
    b.addEventListener("click", () => { chosen = ent; list.hidden = true; $("search").value = "";
      $("chosen").textContent = "已选：" + ent.name + "（" + ent.code + "）"; $("chosen").hidden = false; });
    list.append(b);
  }
  if (!found.length) list.append(el("div", "没有匹配的企业", "hint"));
  list.hidden = false;
});

$("add-demand").addEventListener("click", () => {
  const node = $("demand-template").content.firstElementChild.cloneNode(true);
  const select = node.querySelector("[name=department]");
  for (const dep of departments) { const o = el("option", dep.name); o.value = dep.code; select.append(o); }
  node.querySelector(".remove").addEventListener("click", () => node.remove());
  $("demands").append(node);
});

$("visit").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  document.querySelectorAll(".error").forEach((x) => { x.textContent = ""; });
  const ratings = [];
  for (const row of document.querySelectorAll(".dept")) {
    const on = row.querySelector("button.on");
    if (!on) continue;
    const r = {department: row.dataset.department, level: Number(on.dataset.level)};
    const comment = row.querySelector("[name=comment]").value.trim();
    if (comment && r.level <= 2) r.comment = comment;
    if (r.level <= 2) r.contact_ok = row.querySelector("[name=contact_ok]").checked;
    ratings.push(r);
  }
  const demandNodes = [...document.querySelectorAll("#demands .demand")];
  const demands = demandNodes.map((n) => ({department: n.querySelector("[name=department]").value,
    category: n.querySelector("[name=category]").value, urgency: n.querySelector("[name=urgency]").value,
    text: n.querySelector("[name=text]").value.trim()}));
  if (!chosen) { document.querySelector("[data-error=enterprise]").textContent = "请先选择走访企业"; return; }
  const missing = demands.findIndex((d) => !d.text);
  if (missing >= 0) { demandNodes[missing].querySelector(".error").textContent = "请填写诉求内容"; return; }
  const visitedAt = new Date($("visited-at").value || Date.now()).toISOString();
  $("submit").disabled = true;
  try {
    const r = await api("POST", "/api/v1/visits", {id: visitId, enterprise: chosen.code, visited_at: visitedAt, ratings, demands});
    if (r.status === 202) {
      const opened = r.json.demand_ids.length, bad = r.json.bad_rating_demand_ids.length;
      $("done-text").textContent = "已提交：" + chosen.name + "，评价 " + ratings.length + " 个部门，诉求 " + opened +
        " 条" + (bad ? "，差评整改 " + bad + " 条" : "") + "。走访编号 " + r.json.visit_id;
      show("done");
    } else if (r.status === 401 || r.status === 403) {
      localStorage.removeItem(KEY); show("login"); $("login-error").textContent = "密钥已失效，请重新输入。";
    } else {
      const errors = r.json.errors || {};
      for (const [field, value] of Object.entries(errors)) {
        const target = document.querySelector("[data-error=" + field + "]") || $("form-error");
        target.textContent = errText(value);
      }
      $("form-error").textContent = $("form-error").textContent || r.json.message || ("提交失败（" + r.status + "）");
    }
  } catch (e) {
    $("form-error").textContent = "网络异常，请稍后重试。";
  } finally { $("submit").disabled = false; }
});

$("save-key").addEventListener("click", () => {
  const key = $("key").value.trim(); if (!key) return;
  localStorage.setItem(KEY, key); $("key").value = ""; $("login-error").textContent = ""; start();
});
$("logout").addEventListener("click", () => { localStorage.removeItem(KEY); show("login"); });
$("again").addEventListener("click", start);
start();
</script>
</body></html>
"""


@page.get("/visit")
def visit_page():
    """The cadre's visit page (Chinese, for phones)."""
    return Response(HTML, mimetype="text/html")
