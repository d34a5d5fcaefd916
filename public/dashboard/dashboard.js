// The centres' dashboard: logs in and reads only the public API (/v1/...), charts with Apache ECharts.
(() => {
  const $ = (id) => document.getElementById(id);
  const state = { token: null, challenge: null, charts: {} };
  const TYPE_LABELS = {
    dispute: "矛盾纠纷",
    safety_hazard: "安全隐患",
    public_security: "治安",
    livelihood: "民生诉求",
    assistance: "社会救助",
    proxy_service: "代办事项",
    emergency: "应急",
    environment: "环境",
    other: "其他",
  };
  const LEVEL_LABELS = {
    grid: "网格",
    village: "村（社区）",
    town: "镇（街道）",
    county: "县（区）",
    city: "市",
  };
  const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
  const day = (d) => new Date(d.getTime() + 8 * 3600e3).toISOString().slice(0, 10);

  async function api(path, options = {}) {
    const res = await fetch(path, {
      ...options,
      headers: {
        "content-type": "application/json",
        ...(state.token ? { authorization: `Bearer ${state.token}` } : {}),
      },
    });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new Error(body?.detail ?? `HTTP ${res.status}`);
    return body;
  }

  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      let r;
      if (state.challenge) {
        r = await api("/v1/auth/login/second-factor", {
          method: "POST",
          body: JSON.stringify({ challenge: state.challenge, method: "totp", code: f.get("code") }),
        });
      } else {
        r = await api("/v1/auth/login", {
          method: "POST",
          body: JSON.stringify({ username: f.get("username"), password: f.get("password") }),
        });
      }
      if (r.challenge) {
        state.challenge = r.challenge;
        $("code-row").hidden = false;
        return;
      }
      state.token = r.accessToken;
      await start();
    } catch (err) {
      $("login-error").textContent = `登录失败：${err.message}`;
    }
  });

  async function start() {
    const me = await api("/v1/me");
    $("who").textContent = `${me.user.displayName} · ${me.unit.name}`;
    const units = [me.unit];
    const children = await api(`/v1/units/${me.unit.id}/children?limit=200`);
    units.push(...children.items);
    $("unit").innerHTML = units.map((u) => `<option value="${u.id}">${u.name}</option>`).join("");
    const now = new Date();
    $("to").value = day(now);
    $("from").value = day(new Date(now.getTime() - 89 * 86400e3));
    $("login").hidden = true;
    $("board").hidden = false;
    for (const id of ["trend", "types", "levels", "league", "hotspots"])
      state.charts[id] = echarts.init($(`chart-${id}`));
    window.addEventListener("resize", () => {
      for (const c of Object.values(state.charts)) c.resize();
    });
    $("unit").addEventListener("change", load);
    $("filters").addEventListener("submit", (e) => {
      e.preventDefault();
      load();
    });
    await load();
  }

  async function load() {
    const unit = $("unit").value;
    const q = `from=${$("from").value}&to=${$("to").value}`;
    document.body.dataset.loading = "true";
    const [figures, league, hotspots] = await Promise.all([
      api(`/v1/units/${unit}/figures/cases?${q}&granularity=${$("granularity").value}`),
      api(`/v1/units/${unit}/league?${q}&sort=reported`),
      api(`/v1/units/${unit}/hotspots?${q}&cell=0.005`),
    ]);
    render(figures, league, hotspots);
    document.body.dataset.unit = unit;
    document.body.dataset.reported = String(figures.totals.reported);
    document.body.dataset.loading = "false";
  }

  function render(figures, league, hotspots) {
    const t = figures.totals;
    const kpi = (label, value) => `<div class="kpi">${label}<b>${value}</b></div>`;
    $("kpis").innerHTML = [
      kpi("上报", t.reported),
      kpi("办结", t.resolved),
      kpi("归档", t.closed),
      kpi("办结归档率", pct(t.closureRate)),
      kpi("按时办结率", pct(t.onTimeRate)),
      kpi("村及以下化解率", pct(t.settledLocallyRate)),
      kpi("满意率", pct(t.satisfaction.rate)),
      kpi("受理用时中位数", t.minutesToAccept.p50 === null ? "—" : `${t.minutesToAccept.p50} 分钟`),
    ].join("");
    state.charts.trend.setOption(
      {
        tooltip: { trigger: "axis" },
        legend: { data: ["上报", "办结", "归档"] },
        xAxis: { type: "category", data: figures.trend.map((p) => p.period) },
        yAxis: { type: "value" },
        series: [
          { name: "上报", type: "line", data: figures.trend.map((p) => p.reported) },
          { name: "办结", type: "line", data: figures.trend.map((p) => p.resolved) },
          { name: "归档", type: "line", data: figures.trend.map((p) => p.closed) },
        ],
      },
      true,
    );
    state.charts.types.setOption(
      {
        tooltip: { trigger: "item" },
        series: [
          {
            type: "pie",
            radius: ["35%", "65%"],
            data: figures.byType.map((b) => ({ name: TYPE_LABELS[b.type] ?? b.type, value: b.reported })),
          },
        ],
      },
      true,
    );
    state.charts.levels.setOption(
      {
        tooltip: {},
        xAxis: { type: "category", data: t.resolvedAtLevel.map((l) => LEVEL_LABELS[l.level]) },
        yAxis: { type: "value" },
        series: [{ type: "bar", name: "办结", data: t.resolvedAtLevel.map((l) => l.count) }],
      },
      true,
    );
    state.charts.league.setOption(
      {
        tooltip: { trigger: "axis" },
        legend: { data: ["上报", "归档"] },
        xAxis: {
          type: "category",
          data: league.items.map((r) => r.name),
          axisLabel: { interval: 0, rotate: 20 },
        },
        yAxis: { type: "value" },
        series: [
          { name: "上报", type: "bar", data: league.items.map((r) => r.figures.reported) },
          { name: "归档", type: "bar", data: league.items.map((r) => r.figures.closed) },
        ],
      },
      true,
    );
    const cells = hotspots.features.map((f) => [
      f.properties.center.lng,
      f.properties.center.lat,
      f.properties.count,
    ]);
    const max = Math.max(1, ...cells.map((c) => c[2]));
    state.charts.hotspots.setOption(
      {
        tooltip: { formatter: (p) => `经度 ${p.value[0]}，纬度 ${p.value[1]}：${p.value[2]} 件` },
        xAxis: { type: "value", scale: true, name: "经度" },
        yAxis: { type: "value", scale: true, name: "纬度" },
        visualMap: {
          min: 0,
          max,
          dimension: 2,
          calculable: true,
          orient: "horizontal",
          left: "center",
          bottom: 0,
          inRange: { color: ["#fde0c5", "#a61b29"] },
        },
        series: [{ type: "scatter", data: cells, symbolSize: (v) => 8 + (24 * v[2]) / max }],
      },
      true,
    );
    $("league-table").querySelector("tbody").innerHTML = league.items
      .map(
        (r) =>
          `<tr><td>${r.name}</td><td>${r.figures.reported}</td><td>${pct(r.figures.closureRate)}</td><td>${pct(r.figures.onTimeRate)}</td><td>${r.figures.overdue}</td><td>${r.change.reported >= 0 ? "+" : ""}${r.change.reported}</td></tr>`,
      )
      .join("");
  }
})();
