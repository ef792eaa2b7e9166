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
function show(id) {
  for (const s of ["login", "visit", "done"]) $(s).hidden = s !== id;
  $("logout").hidden = $("mine").hidden = id === "login";
}
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
// The console's list of this cadre's visits and waiting callbacks: signed in with the same key. A fetch, not a
// form: this page's no-referrer policy would send "Origin: null", which the console's sign-in refuses.
$("mine").addEventListener("click", async () => {
  const body = new URLSearchParams({key: localStorage.getItem(KEY), next: "/console/cadre"});
  await fetch("/console/login", {method: "POST", body, referrerPolicy: "same-origin", credentials: "same-origin"});
  location.href = "/console/cadre";
});
// A key handed over as a QR code (the console's 密钥 page) arrives in the fragment, which is never sent to a server.
if (location.hash.startsWith("#key=")) {
  localStorage.setItem(KEY, decodeURIComponent(location.hash.slice(5)));
  history.replaceState(null, "", location.pathname);
}
start();
