// The leader dashboard: period picker, ranking, NPS, demand handling, and a drill-down per department.
// Each period panel is one function (period, section) → promise; adding one is writing that
// function and listing it in PERIOD_PANELS.
"use strict";

const ATTRIBUTES = JSON.parse(document.body.dataset.attributes);  // [[attribute, name]] in display order
const VALUES = JSON.parse(document.body.dataset.valueNames);
const BLUE = "#2f6fd0", RED = "#d9362b", GREY = "#8a94a0";
const SUPPRESSED = "样本不足";
const charts = {};
// 0–100, widened when an interval reaches past either end (t intervals of small samples can).
const SCORE_AXIS = { interval: 20, min: (v) => Math.min(0, Math.floor(v.min / 20) * 20),
  max: (v) => Math.max(100, Math.ceil(v.max / 20) * 20) };
let state = { period: null, departments: [], releases: {} };
const ROLE = document.body.dataset.role;  // "admin" reads live figures and may release; "portal" reads releases

async function getJson(path) {
  const r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (r.status === 401) { location.reload(); throw new Error("session expired"); }
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

const fmt = (x, digits = 1) => (x === null || x === undefined ? "" : Number(x).toFixed(digits));
const pct = (x) => (x === null || x === undefined ? "" : (100 * x).toFixed(1) + "%");
// ECharts renders tooltip strings as HTML: a department name is text and must stay text.
const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const interval = (ci) => (ci ? `${fmt(ci[0])} – ${fmt(ci[1])}` : "—");
// An index lies on 0–100, so its interval is shown clipped to that scale (the API's figures are not clipped);
// intervals of differences (changes, gaps) are shown as they are.
const clip = (ci) => (ci ? [Math.max(0, ci[0]), Math.min(100, ci[1])] : ci);
const indexInterval = (ci) => interval(clip(ci));
const valueName = (v) => VALUES[v] || v;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick") node.addEventListener("click", v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  return node;
}

function table(headers, rows, left = 1) {
  return el("div", { class: "table-wrap" }, el("table", {},
    el("thead", {}, el("tr", {}, ...headers.map((h, i) => el("th", { class: i < left ? "name" : null }, h)))),
    el("tbody", {}, ...rows)));
}

function chart(id, container, height) {
  if (charts[id]) { charts[id].dispose(); delete charts[id]; }
  const node = el("div", { id, class: "chart" });
  node.style.height = `${height}px`;
  container.append(node);
  charts[id] = echarts.init(node, null, { renderer: "canvas" });
  charts[id].setOption({ animation: false });  // figures, not a show: what is drawn is final at once
  return charts[id];
}

// Error bars ([low, high] per category) drawn over horizontal or vertical bars.
function intervalSeries(intervals, horizontal) {
  return {
    type: "custom", name: "95%置信区间", z: 3,
    data: intervals.map((ci, i) => (ci ? [i, ci[0], ci[1]] : [i, null, null])),
    renderItem(params, api) {
      if (api.value(1) === null || Number.isNaN(api.value(1))) return null;
      const at = (v) => (horizontal ? api.coord([v, api.value(0)]) : api.coord([api.value(0), v]));
      const a = at(api.value(1)), b = at(api.value(2)), cap = 5;
      const capLine = (p) => (horizontal ? [[p[0], p[1] - cap], [p[0], p[1] + cap]] : [[p[0] - cap, p[1]], [p[0] + cap, p[1]]]);
      const style = { stroke: "#1f2933", lineWidth: 1.5 };
      return { type: "group", children: [
        { type: "line", shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style },
        ...[a, b].map((p) => { const [s, e] = capLine(p); return { type: "line", shape: { x1: s[0], y1: s[1], x2: e[0], y2: e[1] }, style }; }),
      ] };
    },
    encode: horizontal ? { x: [1, 2], y: 0 } : { x: 0, y: [1, 2] },
    tooltip: { show: false },
  };
}

// --- period panels --------------------------------------------------------------------------------
async function rankingPanel(period, section) {
  const body = await getJson(`/api/v1/indices?period=${period}`);
  state.departments = body.departments;
  const ranked = body.departments.filter((d) => !d.suppressed).sort((a, b) => a.rank - b.rank || a.code.localeCompare(b.code));
  section.append(el("h2", {}, `${period} 部门满意度排名`),
    el("p", { class: "note" }, `指数 0–100，按企业计（一企一票）；线段为 95% 置信区间（显示时截在 0–100 之内）；红色为落后单位；样本企业少于 ${body.min_n} 家的部门不排名（${SUPPRESSED}）。点击部门查看详情。`));
  if (ranked.length) {
    const c = chart("ranking-chart", section, 60 + 34 * ranked.length);
    c.setOption({
      grid: { left: 8, right: 24, top: 10, bottom: 24, containLabel: true },
      xAxis: { type: "value", ...SCORE_AXIS },
      yAxis: { type: "category", inverse: true, data: ranked.map((d) => d.name), axisLabel: { width: 150, overflow: "truncate" } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
        formatter: (ps) => { const d = ranked[ps[0].dataIndex]; return `${esc(d.name)}<br>第 ${esc(d.rank)} 名　指数 ${fmt(d.index)}<br>95%区间 ${indexInterval(d.ci95)}<br>样本企业 ${d.n} 家${d.laggard ? "<br>落后单位" : ""}`; } },
      series: [
        { type: "bar", name: "满意度指数", data: ranked.map((d) => ({ value: d.index, itemStyle: { color: d.laggard ? RED : BLUE } })),
          barMaxWidth: 28, label: { show: true, position: "insideLeft", color: "#fff", formatter: (p) => fmt(p.value) } },
        intervalSeries(ranked.map((d) => clip(d.ci95)), true),
      ],
    });
    c.on("click", (p) => drill(ranked[p.dataIndex].code));
  } else {
    section.append(el("p", { class: "suppressed" }, `本季度没有达到样本量的部门（${SUPPRESSED}）。`));
  }
  const order = [...ranked, ...body.departments.filter((d) => d.suppressed)];
  section.append(table(["排名", "部门", "指数", "95%区间", "样本企业", "满意率", "差评率", ""], order.map((d) =>
    el("tr", { class: `clickable${d.laggard ? " laggard" : ""}`, "data-code": d.code, onclick: () => drill(d.code) },
      el("td", {}, d.rank ?? "—"), el("td", { class: "name" }, d.name),
      ...(d.suppressed
        ? [el("td", { class: "suppressed" }, SUPPRESSED), el("td", {}, "—"), el("td", {}, String(d.n)), el("td", {}, "—"), el("td", {}, "—")]
        : [el("td", {}, fmt(d.index)), el("td", {}, indexInterval(d.ci95)), el("td", {}, String(d.n)), el("td", {}, pct(d.satisfied_rate)), el("td", {}, pct(d.bad_rate))]),
      el("td", {}, d.laggard ? el("span", { class: "badge" }, "落后单位") : ""))), 2));
}

async function npsPanel(period, section) {
  const n = await getJson(`/api/v1/nps?period=${period}`);
  section.append(el("h2", {}, "企业推荐意愿（NPS）"), n.suppressed
    ? el("p", { class: "suppressed" }, `${SUPPRESSED}（${n.n} 家企业作答）`)
    : el("div", { class: "figures" },
      el("div", { class: "figure" }, "NPS", el("b", { id: "nps-value" }, fmt(n.nps))),
      el("div", { class: "figure" }, "推荐者", el("b", {}, String(n.promoters))),
      el("div", { class: "figure" }, "中立者", el("b", {}, String(n.passives))),
      el("div", { class: "figure" }, "贬损者", el("b", {}, String(n.detractors))),
      el("div", { class: "figure" }, "作答企业", el("b", {}, String(n.n)))));
}

// 万人助万企 demands received in the period, per department; those with overdue ones come first, in red.
async function demandPanel(period, section) {
  const body = await getJson(`/api/v1/demands/stats?period=${period}`);
  const names = Object.fromEntries(state.departments.map((d) => [d.code, d.name]));
  const name = (code) => names[code] || code;
  const shown = body.departments.filter((d) => d.received > 0).sort((a, b) => b.overdue - a.overdue || a.code.localeCompare(b.code));
  section.append(el("h2", {}, "诉求办理"));
  if (!shown.length) {
    section.append(el("p", {}, "本季度没有受理诉求。"));
    return;
  }
  section.append(el("p", { class: "note" }, `本季度受理的企业诉求。条形为各部门未结案诉求，红色为已超期；表中红底为有超期诉求的部门。按时办结率 = 按时办结 ÷ 已办结；回访满意度 0–100，回访次数未达公布门槛的不计（${SUPPRESSED}）。`));
  const open = shown.filter((d) => d.open > 0);
  if (open.length) {
    const count = { show: true, position: "inside", color: "#fff", formatter: (p) => (p.value ? String(p.value) : "") };
    chart("demand-chart", section, 70 + 34 * open.length).setOption({
      grid: { left: 8, right: 24, top: 30, bottom: 24, containLabel: true },
      legend: { top: 0, data: ["超期", "未超期"] },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: open.map((d) => name(d.code)), axisLabel: { width: 150, overflow: "truncate" } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
        formatter: (ps) => { const d = open[ps[0].dataIndex]; return `${esc(name(d.code))}<br>未结案 ${esc(d.open)} 件，其中超期 ${esc(d.overdue)} 件`; } },
      series: [
        { type: "bar", name: "超期", stack: "open", data: open.map((d) => d.overdue), itemStyle: { color: RED }, barMaxWidth: 28, label: count },
        { type: "bar", name: "未超期", stack: "open", data: open.map((d) => d.open - d.overdue), itemStyle: { color: BLUE }, barMaxWidth: 28, label: count },
      ],
    });
  }
  section.append(table(["部门", "受理", "1日内交办", "已办结", "按时办结", "按时办结率", "未结案", "超期", "回访", "回访满意度"], shown.map((d) =>
    el("tr", { class: d.overdue ? "overdue" : null, "data-code": d.code },
      el("td", { class: "name" }, name(d.code)), ...[d.received, d.assigned_within_1_day, d.resolved, d.resolved_on_time].map((x) => el("td", {}, String(x))),
      el("td", {}, d.on_time_rate === null ? "—" : pct(d.on_time_rate)), el("td", {}, String(d.open)),
      el("td", { class: d.overdue ? "overdue-n" : null }, String(d.overdue)), el("td", {}, String(d.callback_n)),
      d.suppressed ? el("td", { class: "suppressed" }, SUPPRESSED) : el("td", {}, fmt(d.callback_index))))));
}

const PERIOD_PANELS = [rankingPanel, npsPanel, demandPanel];

// --- release (通报) ----------------------------------------------------------------------------------
const when = (iso) => new Date(iso).toLocaleString("zh-CN", { hour12: false });

async function loadReleases() {
  const { releases } = await getJson("/api/v1/periods");
  state.releases = Object.fromEntries((releases || []).map((r) => [r.period, r]));
}

function showReleaseState(period) {
  const r = state.releases[period], line = document.getElementById("release-state");
  const done = r && r.released ? `第 ${r.release} 次通报（${when(r.released_at)}）` : null;
  line.textContent = ROLE === "admin"
    ? `实时数据（仅管理员可见）；门户：${done ? `看到${done}` : "本季度尚未通报，看不到"}`
    : (done ? `通报数据：${done}` : "本季度尚未通报");
  line.dataset.release = r && r.released ? String(r.release) : "0";
  const button = document.getElementById("release");
  if (button) { button.hidden = false; button.textContent = done ? "再次通报发布本季度" : "通报发布本季度"; }
}

async function release() {
  const period = state.period, before = state.releases[period]?.release || 0;
  if (!confirm(`将 ${period} 的当前数据通报发布给门户？此后补交的评价要再次发布才会出现在门户。`)) return;
  const button = document.getElementById("release");
  button.disabled = true;
  try {
    const r = await fetch("/dashboard/release", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `period=${encodeURIComponent(period)}` });
    if (r.status !== 202) throw new Error(`${r.status}`);
    // The worker freezes the figures when it takes the release; show it once the gateway lists it.
    for (let i = 0; i < 50 && (state.releases[period]?.release || 0) <= before; i++) {
      await new Promise((ok) => setTimeout(ok, 200));
      await loadReleases();
    }
    showReleaseState(period);
  } catch (e) {
    document.getElementById("release-state").textContent = `通报发布失败：${e.message}`;
  } finally { button.disabled = false; }
}

async function showPeriod(period) {
  delete document.body.dataset.period;  // set again once every panel is drawn: "this period is shown"
  state.period = period;
  showReleaseState(period);
  document.getElementById("export").href = `/api/v1/reports/${period}.xlsx`;
  const panels = document.getElementById("panels");
  panels.replaceChildren();
  document.getElementById("detail").hidden = true;
  for (const panel of PERIOD_PANELS) {
    const section = el("section", { id: `panel-${panel.name}` });
    panels.append(section);
    try { await panel(period, section); } catch (e) { section.append(el("p", { class: "error" }, `加载失败：${e.message}`)); }
  }
  document.body.dataset.period = period;
}

// --- drill-down -----------------------------------------------------------------------------------
// A year's trend goes back over years, a quarter's over quarters.
function quarterMinus(period, k) {
  if (period.length === 4) return String(Number(period) - Math.min(k, 4));
  let y = Number(period.slice(0, 4)), q = Number(period.slice(5)) - k;
  while (q < 1) { q += 4; y -= 1; }
  return `${y}Q${q}`;
}

async function drill(code) {
  const period = state.period, detail = document.getElementById("detail");
  const [d, trend] = await Promise.all([
    getJson(`/api/v1/departments/${encodeURIComponent(code)}/index?period=${period}`),
    getJson(`/api/v1/departments/${encodeURIComponent(code)}/trend?from=${quarterMinus(period, 7)}&to=${period}`),
  ]);
  detail.replaceChildren(el("h2", { id: "detail-title" }, `${d.name}（${period}）`),
    el("p", {}, d.suppressed ? `${SUPPRESSED}：${d.n} 家企业评价，未达到公布门槛。`
      : `指数 ${fmt(d.index)}（95%区间 ${indexInterval(d.ci95)}），第 ${d.rank} 名，样本企业 ${d.n} 家，满意率 ${pct(d.satisfied_rate)}，差评率 ${pct(d.bad_rate)}。`,
    d.laggard ? el("span", { class: "badge" }, "落后单位") : ""));
  detail.append(el("h3", {}, "分指标"), table(["指标", "样本企业", "指数", "95%区间"], d.indicators.map((i) =>
    el("tr", {}, el("td", {title: i.indicator}, i.name || i.indicator), el("td", {}, i.n ?? "—"),
      i.suppressed ? el("td", { class: "suppressed" }, SUPPRESSED) : el("td", {}, fmt(i.index)), el("td", {}, indexInterval(i.ci95))))));
  detail.append(el("h3", {}, "季度走势"));
  const last = trend[trend.length - 1];
  if (last && last.change !== null) {
    detail.append(el("p", { class: "note" }, `较上季度 ${last.change >= 0 ? "+" : ""}${fmt(last.change)}（95%区间 ${interval(last.change_ci95)}，${last.change_significant ? "变化显著" : "变化不显著"}）`));
  }
  chart("trend-chart", detail, 240).setOption({
    grid: { left: 8, right: 16, top: 16, bottom: 24, containLabel: true },
    xAxis: { type: "category", data: trend.map((t) => t.period) },
    yAxis: { type: "value", min: 0, max: 100 },
    tooltip: { trigger: "axis", formatter: (ps) => { const t = trend[ps[0].dataIndex]; return `${esc(t.period)}<br>${t.released === false ? "未通报" : t.suppressed ? `${SUPPRESSED}（${t.n} 家）` : `指数 ${fmt(t.index)}，${t.n} 家`}`; } },
    series: [{ type: "line", name: "满意度指数", data: trend.map((t) => t.index), connectNulls: false, symbolSize: 8, itemStyle: { color: BLUE } }],
  });
  const segments = el("div", { id: "segments" });
  const tabs = el("div", { class: "tabs", role: "group" }, ...ATTRIBUTES.map(([by, name]) =>
    el("button", { type: "button", "data-by": by, onclick: () => showSegments(code, by, tabs, segments) }, name)));
  detail.append(el("h3", {}, "分群比较（平等对待）"), tabs, segments);
  detail.hidden = false;
  await showSegments(code, "ownership", tabs, segments);
  detail.scrollIntoView({ behavior: "instant", block: "start" });
}

async function showSegments(code, by, tabs, container) {
  for (const b of tabs.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.by === by));
  const s = await getJson(`/api/v1/departments/${encodeURIComponent(code)}/segments?period=${state.period}&by=${by}`);
  const g = s.gap;
  container.replaceChildren(el("p", { id: "gap" }, g.value === null
    ? "可比分群不足两个（其余分群样本不足），无法计算差距。"
    : `差距 ${fmt(g.value)}：${valueName(g.high)} 高于 ${valueName(g.low)}，95%区间 ${interval(g.ci95)}，${g.ci95 && (g.ci95[0] > 0 || g.ci95[1] < 0) ? "差距显著" : "差距不显著"}。`));
  const shown = s.segments.filter((x) => !x.suppressed);
  if (shown.length) {
    chart("segment-chart", container, 60 + 34 * shown.length).setOption({
      grid: { left: 8, right: 24, top: 10, bottom: 24, containLabel: true },
      xAxis: { type: "value", ...SCORE_AXIS },
      yAxis: { type: "category", inverse: true, data: shown.map((x) => valueName(x.value)) },
      series: [
        { type: "bar", name: "分群指数", data: shown.map((x) => ({ value: x.index, itemStyle: { color: x.value === g.low ? RED : x.value === g.high ? "#2a9d5b" : BLUE } })),
          barMaxWidth: 28, label: { show: true, position: "insideLeft", color: "#fff", formatter: (p) => fmt(p.value) } },
        intervalSeries(shown.map((x) => clip(x.ci95)), true),
      ],
    });
  }
  container.append(table(["分群", "样本企业", "指数", "95%区间"], s.segments.map((x) =>
    el("tr", {}, el("td", {}, valueName(x.value)), el("td", {}, x.n ?? "—"),
      x.suppressed ? el("td", { class: "suppressed" }, SUPPRESSED) : el("td", {}, fmt(x.index)), el("td", {}, indexInterval(x.ci95))))));
}

// --- start ----------------------------------------------------------------------------------------
async function start() {
  const { periods, releases } = await getJson("/api/v1/periods");
  state.releases = Object.fromEntries((releases || []).map((r) => [r.period, r]));
  document.getElementById("release")?.addEventListener("click", release);
  const picker = document.getElementById("period");
  // A year (the annual 三挂钩 assessment) is listed just below its quarters; the latest quarter is shown first.
  const label = (p) => (p.length === 4 ? `${p}年（全年）` : `${p.slice(0, 4)}年第${p.slice(5)}季度`);
  picker.replaceChildren(...periods.slice().reverse().map((p) => el("option", { value: p }, label(p))));
  picker.addEventListener("change", () => showPeriod(picker.value));
  const quarters = periods.filter((p) => p.length > 4);
  if (periods.length) {
    const first = quarters.length ? quarters[quarters.length - 1] : periods[periods.length - 1];
    picker.value = first;
    await showPeriod(first);
  }
  else document.getElementById("panels").append(el("section", {}, el("p", {}, ROLE === "admin"
    ? "还没有任何评价数据。" : "还没有通报发布的季度。")));
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
}

start();
