/* The respondent's page without a framework, in ES5 so that older in-app browsers (WeChat) run it.
   The form also works with no script at all (a plain POST); this adds live skip logic, checks before
   sending, answers kept across reloads, and resending the identical body on a bad network (the API
   answers an identical resend with the same 202). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("survey-data").textContent);
  var form = document.getElementById("survey-form");
  var button = document.getElementById("submit");
  var statusLine = document.getElementById("status");
  var KEY = "manyi:answers:" + data.token;
  var MAX_WAIT = 15000;
  var sending = false;

  function box(q) { return document.getElementById("q-" + q.id); }
  function inputs(q) { return form.querySelectorAll("[name=\"" + q.id + "\"]"); }

  function valueOf(q) {
    var list = inputs(q), i, chosen = [];
    if (q.type === "text") {
      var text = list[0].value.replace(/^\s+|\s+$/g, "");
      return text ? text : null;
    }
    for (i = 0; i < list.length; i++) {
      if (list[i].checked) chosen.push(list[i].value);
    }
    if (!chosen.length) return null;
    if (q.type === "multi") return chosen;
    return (q.type === "rating5" || q.type === "nps") ? parseInt(chosen[0], 10) : chosen[0];
  }

  // The same rule as services/survey/forms.py is_visible: every named earlier answer equals the value.
  function isVisible(q, shown) {
    var ref, given;
    for (ref in (q.show_if || {})) {
      if (!q.show_if.hasOwnProperty(ref)) continue;
      given = shown[ref];
      if (given instanceof Array ? given.indexOf(q.show_if[ref]) < 0 : given !== q.show_if[ref]) return false;
    }
    return true;
  }

  // The consent question matters only with a 差评 (1–2) among the visible ratings; without scripts it is always shown.
  function anyBadRating(given) {
    return data.questions.some(function (q) { return q.type === "rating5" && given[q.id] !== undefined && given[q.id] <= 2; });
  }

  function contactOk() {
    var yes = form.querySelector("input[name=contact_ok][value=yes]");
    return !!(yes && yes.checked && !document.getElementById("consent").hidden);
  }

  // Numbers count the questions shown, so they run 1, 2, 3 … and end at the count the intro gives.
  function applyVisibility() {
    var shown = {}, number = 0;
    data.questions.forEach(function (q) {
      var visible = isVisible(q, shown), v, reason;
      box(q).hidden = !visible;
      if (visible) {
        v = valueOf(q);
        if (v !== null) shown[q.id] = v;
        number += 1;
        box(q).querySelector(".num").textContent = number + ".";
      }
      reason = document.getElementById("reason-" + q.id);
      if (reason) reason.hidden = !(visible && v !== null && v <= 2);
    });
    document.getElementById("consent").hidden = !anyBadRating(shown);
    document.getElementById("count").textContent = number;
  }

  function reasons(given) {
    var out = {}, any = false;
    data.questions.forEach(function (q) {
      var field = form.querySelector("[name=\"reason_" + q.id + "\"]"), text;
      if (!field || given[q.id] === undefined || given[q.id] > 2) return;
      text = field.value.replace(/^\s+|\s+$/g, "");
      if (text) { out[q.id] = text; any = true; }
    });
    return any ? out : null;
  }

  function answers() {
    var out = {};
    data.questions.forEach(function (q) {
      var v = box(q).hidden ? null : valueOf(q);
      if (v !== null) out[q.id] = v;
    });
    return out;
  }

  function save() {
    var all = {};
    data.questions.forEach(function (q) {
      var v = valueOf(q);
      if (v !== null) all[q.id] = v;
    });
    try { localStorage.setItem(KEY, JSON.stringify(all)); } catch (e) { /* private mode: nothing kept */ }
  }

  function restore() {
    var kept;
    try { kept = JSON.parse(localStorage.getItem(KEY) || "null"); } catch (e) { kept = null; }
    if (!kept) return;
    data.questions.forEach(function (q) {
      var v = kept[q.id], list = inputs(q), i;
      if (v === undefined) return;
      if (q.type === "text") { list[0].value = v; return; }
      for (i = 0; i < list.length; i++) {
        list[i].checked = (v instanceof Array) ? v.indexOf(list[i].value) >= 0 : String(v) === list[i].value;
      }
    });
  }

  function setError(qid, text) {
    var p = document.getElementById("err-" + qid);
    if (!p) return false;
    p.textContent = text || "";
    p.parentNode.className = p.parentNode.className.replace(/\s*has-error/g, "") + (text ? " has-error" : "");
    return true;
  }

  function clearErrors() {
    data.questions.forEach(function (q) { setError(q.id, ""); });
  }

  function firstErrorIntoView() {
    var first = form.querySelector(".has-error");
    if (first && first.scrollIntoView) first.scrollIntoView({block: "center"});
  }

  function check(given) {
    var errors = {};
    data.questions.forEach(function (q) {
      if (box(q).hidden) return;
      if (q.required && given[q.id] === undefined) errors[q.id] = ["此题为必答题"];
      else if (q.type === "text" && given[q.id] && given[q.id].length > q.max_length) {
        errors[q.id] = ["不能超过 " + q.max_length + " 字"];
      }
    });
    return errors;
  }

  function showErrors(errors) {
    var qid, general = [];
    clearErrors();
    for (qid in errors) {
      if (errors.hasOwnProperty(qid) && !setError(qid, [].concat(errors[qid])[0])) general.push([].concat(errors[qid])[0]);
    }
    statusLine.textContent = general.length ? general.join("；") : "请修改标红的题目后再提交";
    firstErrorIntoView();
  }

  function done() {
    try { localStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
    form.hidden = true;
    document.querySelector(".intro").hidden = true;
    document.getElementById("thanks").hidden = false;
    window.scrollTo(0, 0);
  }

  function send(body, attempt) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", data.endpoint);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.timeout = 20000;
    xhr.onload = function () {
      var reply = {};
      try { reply = JSON.parse(xhr.responseText); } catch (e) { reply = {}; }
      if (xhr.status === 202) return done();
      if (xhr.status === 400 && reply.errors) {
        sending = false;
        button.disabled = false;
        return showErrors(reply.errors);
      }
      if (xhr.status === 404 || xhr.status === 409 || xhr.status === 410) {
        // The link cannot take this answer (used, expired, closed): the page itself explains why.
        try { localStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
        return window.location.reload();
      }
      retry(body, attempt);  // 413, 429, 5xx: the server is busy or unwell; the same body again later
    };
    xhr.onerror = xhr.ontimeout = function () { retry(body, attempt); };
    xhr.send(body);
  }

  function retry(body, attempt) {
    var wait = Math.min(1000 * Math.pow(2, attempt), MAX_WAIT);
    statusLine.textContent = "网络不稳定，" + Math.round(wait / 1000) + " 秒后自动重新提交（第 " + (attempt + 1) + " 次）…";
    setTimeout(function () {
      statusLine.textContent = "正在重新提交…";
      send(body, attempt + 1);
    }, wait);
  }

  form.addEventListener("change", function () { applyVisibility(); save(); });
  form.addEventListener("input", save);
  form.addEventListener("submit", function (event) {
    var given, errors, body;
    event.preventDefault();
    if (sending) return;
    applyVisibility();
    given = answers();
    errors = check(given);
    clearErrors();
    if (Object.keys(errors).length) return showErrors(errors);
    sending = true;
    button.disabled = true;
    statusLine.textContent = "正在提交…";
    body = {token: data.token, answers: given, contact_ok: contactOk()};
    if (reasons(given)) body.reasons = reasons(given);
    send(JSON.stringify(body), 0);
  });

  restore();
  applyVisibility();
  document.documentElement.className += " js";
}());
