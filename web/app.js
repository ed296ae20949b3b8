// plumetrace dashboard: a case's layers, a job's posterior and fused tiles, its ranking linked to
// the map, the jobs and live alerts. Everything comes from this server (no internet needed).
'use strict';
(function () {
  const params = new URLSearchParams(window.location.search);
  const state = { caseName: params.get('case') || '', jobId: params.get('job') || '', shownJob: '', rescale: params.get('rescale') || '' };
  const $ = (id) => document.getElementById(id);
  $('case-input').value = state.caseName;
  $('job-input').value = state.jobId;
  $('rescale-input').value = state.rescale;

  const map = L.map('map', { zoomControl: true, attributionControl: false }).setView([30, 120], 5);
  const control = L.control.layers(null, null, { collapsed: false }).addTo(map);
  const overlays = {};
  let highlight = null;

  const legend = L.control({ position: 'bottomleft' });
  legend.onAdd = function () {
    const div = L.DomUtil.create('div', 'legend');
    for (const [color, label] of [['#c0392b', 'facility'], ['#1f5fbf', 'station'], ['#e67e22', 'trace']]) {
      const i = document.createElement('i');
      i.style.background = color;
      div.appendChild(i);
      div.appendChild(document.createTextNode(label));
    }
    return div;
  };
  legend.addTo(map);

  function setStatus(text) { $('status').textContent = text; }

  function setOverlay(name, layer, visible) {
    if (overlays[name]) {
      map.removeLayer(overlays[name]);
      control.removeLayer(overlays[name]);
    }
    overlays[name] = layer;
    if (!layer) return;
    control.addOverlay(layer, name);
    if (visible !== false) layer.addTo(map);
  }

  async function getJson(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' } });
    if (!r.ok) {
      let detail = '';
      try { detail = (await r.json()).detail || ''; } catch (e) { /* not problem+json */ }
      const err = new Error(url + ': ' + r.status + (detail ? ' ' + detail : ''));
      err.status = r.status;
      throw err;
    }
    return r.json();
  }

  const enc = encodeURIComponent;
  const caseUrl = (c) => '/api/v1/cases/' + enc(c);

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function fmt(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) return '';
    return Number(x).toPrecision(digits || 3);
  }

  function shortTime(iso) { return iso ? iso.replace('T', ' ').replace(/:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/, '') : ''; }

  // ---- the case's vector layers ------------------------------------------------------------
  const vectorStyles = {
    boundaries: (data) => L.geoJSON(data, {
      style: { color: '#666', weight: 1, fill: false },
      onEachFeature: (f, l) => l.bindTooltip(String(f.properties.name || f.properties.code || ''), { sticky: true }),
    }),
    sources: (data) => L.geoJSON(data, {
      pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 4, color: '#c0392b', weight: 1, fillOpacity: 0.9 }),
      onEachFeature: (f, l) => l.bindTooltip(f.properties.id + ' ' + (f.properties.name || '')),
    }),
    stations: (data) => L.geoJSON(data, {
      pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 6, color: '#1f5fbf', weight: 2, fillOpacity: 0.3 }),
      onEachFeature: (f, l) => l.bindTooltip('station ' + f.properties.id + ' ' + (f.properties.name || '')),
    }),
    traces: (data) => L.geoJSON(data, {
      style: { color: '#e67e22', weight: 2 },
      pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 3, color: '#e67e22' }),
      onEachFeature: (f, l) => l.bindTooltip('trace ' + f.properties.name),
    }),
  };
  const vectorTitles = { boundaries: 'boundaries', sources: 'facilities', stations: 'stations', traces: 'traces' };

  async function loadCase() {
    for (const k of Object.keys(vectorStyles)) setOverlay(vectorTitles[k], null);
    if (!state.caseName) return;
    let layers;
    try {
      layers = (await getJson(caseUrl(state.caseName) + '/layers')).layers;
    } catch (e) {
      setStatus('case ' + state.caseName + ': ' + e.message);
      return;
    }
    const kinds = new Set(layers.filter((l) => l.type === 'vector').map((l) => l.kind));
    let bounds = null;
    for (const kind of ['boundaries', 'traces', 'stations', 'sources']) {
      if (!kinds.has(kind)) continue;
      try {
        const data = await getJson(caseUrl(state.caseName) + '/layers/' + kind + '.geojson');
        const layer = vectorStyles[kind](data);
        setOverlay(vectorTitles[kind], layer);
        if (kind !== 'boundaries' && layer.getLayers().length) {
          bounds = bounds ? bounds.extend(layer.getBounds()) : L.latLngBounds(layer.getBounds().getSouthWest(), layer.getBounds().getNorthEast());
        }
      } catch (e) {
        setStatus(kind + ': ' + e.message);
      }
    }
    if (bounds && !state.shownJob) map.fitBounds(bounds.pad(0.2));
    if (overlays.facilities) overlays.facilities.bringToFront();
  }

  // ---- a job: posterior and fused tiles, ranking ---------------------------------------------
  function clearRanking(note) {
    $('ranking').querySelector('tbody').replaceChildren();
    $('ranking-note').textContent = note;
    setOverlay('posterior', null);
    setOverlay('fused', null);
    setOverlay('candidates', null);
  }

  async function tileLayer(kind, colormap, opacity, visible, rescale) {
    const base = '/tiles/' + enc(state.caseName) + '/' + enc(state.jobId + ':' + kind);
    const query = '?colormap_name=' + colormap + (rescale ? '&rescale=' + enc(rescale) : '');
    const tj = await getJson(base + '/tilejson.json' + query);
    const b = tj.bounds;
    const bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
    const layer = L.tileLayer(base + '/{z}/{x}/{y}.png' + query, {
      opacity: opacity, bounds: bounds, maxNativeZoom: tj.maxzoom, maxZoom: 22, minZoom: 0,
      className: 'tiles-' + kind,
    });
    setOverlay(kind, layer, visible);
    return bounds;
  }

  function selectRow(tr, lat, lon, label) {
    for (const r of $('ranking').querySelectorAll('tr.selected')) r.classList.remove('selected');
    tr.classList.add('selected');
    if (highlight) map.removeLayer(highlight);
    highlight = L.circleMarker([lat, lon], { radius: 12, color: '#000', weight: 3, fill: false }).addTo(map);
    highlight.bindPopup(label).openPopup();
    map.flyTo([lat, lon], Math.max(map.getZoom(), 14));
  }

  function renderRanking(doc) {
    const tbody = $('ranking').querySelector('tbody');
    tbody.replaceChildren();
    const markers = L.layerGroup();
    const candidates = doc.candidates || [];
    for (const c of candidates) {
      const tr = document.createElement('tr');
      tr.className = 'candidate';
      tr.dataset.id = c.id;
      tr.dataset.lat = c.lat;
      tr.dataset.lon = c.lon;
      cell(tr, String(c.rank), 'num');
      cell(tr, c.id + (c.name && c.name !== c.id ? ' ' + c.name : ''));
      const p = cell(tr, '', 'num');
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = Math.round(60 * (c.probability || 0)) + 'px';
      p.appendChild(bar);
      p.appendChild(document.createTextNode((100 * (c.probability || 0)).toFixed(1) + ' %'));
      const r = c.emission_rate_g_s || {};
      cell(tr, fmt(r.estimate) + (r.p05 !== undefined ? ' (' + fmt(r.p05, 2) + '–' + fmt(r.p95, 2) + ')' : ''), 'num');
      cell(tr, c.release ? shortTime(c.release.start) + ' – ' + shortTime(c.release.end) : '');
      const j = cell(tr, c.jurisdiction ? c.jurisdiction.name || c.jurisdiction.code || '' : '');
      if (c.cross_border) {
        const x = document.createElement('span');
        x.className = 'cross';
        x.textContent = ' cross-border';
        j.appendChild(x);
      }
      const label = '#' + c.rank + ' ' + c.id + ' ' + (100 * (c.probability || 0)).toFixed(1) + ' %';
      tr.addEventListener('click', () => selectRow(tr, c.lat, c.lon, label));
      tbody.appendChild(tr);
      if (c.rank <= 10 && isFinite(c.lat) && isFinite(c.lon)) {
        markers.addLayer(L.circleMarker([c.lat, c.lon], { radius: 4 + 12 * Math.sqrt(c.probability || 0), color: '#c0392b', weight: 2, fillOpacity: 0.25 })
          .bindTooltip(label).on('click', () => { tr.scrollIntoView({ block: 'nearest' }); selectRow(tr, c.lat, c.lon, label); }));
      }
    }
    for (const [key, title] of [['unlisted', 'unlisted source'], ['no_release', 'no release']]) {
      const h = doc[key];
      if (!h) continue;
      const tr = document.createElement('tr');
      tr.className = 'hypothesis';
      cell(tr, '', 'num');
      cell(tr, title);
      cell(tr, (100 * (h.probability || 0)).toFixed(1) + ' %', 'num');
      cell(tr, '');
      cell(tr, '');
      cell(tr, h.area_km2_90 !== undefined ? '90 % area ' + fmt(h.area_km2_90, 2) + ' km²' : '');
      if (h.peak) tr.addEventListener('click', () => selectRow(tr, h.peak.lat, h.peak.lon, title + ' (posterior peak)'));
      tbody.appendChild(tr);
    }
    setOverlay('candidates', markers);
    const w = doc.window || {};
    $('ranking-note').textContent = (doc.pollutant || '') + (w.start ? ', window ' + shortTime(w.start) + ' – ' + shortTime(w.end) : '') +
      ' — ' + candidates.length + ' candidates; click a row to go there.';
    document.body.dataset.ranking = 'ready';
  }

  let jobTimer = null;
  async function loadJob() {
    clearTimeout(jobTimer);
    if (!state.jobId) {
      clearRanking('Open a finished job to see its ranking.');
      return;
    }
    let job;
    try {
      job = await getJson('/jobs/' + enc(state.jobId));
    } catch (e) {
      clearRanking('job ' + state.jobId + ': ' + e.message);
      return;
    }
    if (job.case && !state.caseName) {
      state.caseName = job.case;
      $('case-input').value = job.case;
      loadCase();
    }
    if (job.status === 'accepted' || job.status === 'running') {
      clearRanking('job ' + job.status + ', ' + job.progress + ' % (' + (job.message || '') + ')');
      jobTimer = setTimeout(loadJob, 2000);
      return;
    }
    if (job.status !== 'successful') {
      clearRanking('job ' + job.status + (job.message ? ': ' + job.message : ''));
      return;
    }
    // only a trace job has a ranking and posterior tiles; a plan, regions or draw job's results
    // are documents of their own, listed in its status document's links
    if (job.processID && job.processID !== 'trace') {
      clearRanking('job ' + state.jobId + ' is a ' + job.processID + ' job, not a trace: no ranking to show; its results are at /jobs/' +
                   state.jobId + '/results.');
      state.shownJob = '';
      document.body.dataset.ranking = 'not-a-trace';
      return;
    }
    if (state.shownJob === state.jobId) return;
    try {
      const doc = await getJson('/jobs/' + enc(state.jobId) + '/results');
      renderRanking(doc);
      state.shownJob = state.jobId;
      try {
        await tileLayer('fused', 'plasma', 0.7, false);
        const bounds = await tileLayer('posterior', 'viridis', 0.75, true, state.rescale);
        map.fitBounds(bounds);
      } catch (e) {
        setStatus('tiles: ' + e.message);
      }
      for (const k of ['boundaries', 'traces', 'stations', 'facilities', 'candidates']) if (overlays[k] && map.hasLayer(overlays[k]) && overlays[k].bringToFront) overlays[k].bringToFront();
    } catch (e) {
      clearRanking('results: ' + e.message);
    }
  }

  function openJob(caseName, jobId, rescale) {
    const caseChanged = caseName !== state.caseName;
    if (rescale !== undefined && rescale !== state.rescale) {
      state.rescale = rescale;
      state.shownJob = '';  // draw the posterior again
    }
    state.caseName = caseName;
    state.jobId = jobId;
    $('case-input').value = caseName;
    $('job-input').value = jobId;
    const q = new URLSearchParams();
    if (caseName) q.set('case', caseName);
    if (jobId) q.set('job', jobId);
    if (state.rescale) q.set('rescale', state.rescale);
    window.history.replaceState(null, '', '/?' + q.toString());
    if (caseChanged) loadCase();
    loadJob();
    refreshAlerts();
  }

  // ---- jobs and alerts, polled -----------------------------------------------------------------
  async function refreshJobs() {
    try {
      const jobs = (await getJson('/jobs')).jobs || [];
      const cases = new Set(jobs.map((j) => j.case).filter(Boolean));
      $('case-list').replaceChildren(...[...cases].map((c) => { const o = document.createElement('option'); o.value = c; return o; }));
      const shown = jobs.filter((j) => !state.caseName || j.case === state.caseName).slice(0, 50);
      const tbody = $('jobs').querySelector('tbody');
      tbody.replaceChildren();
      for (const j of shown) {
        const tr = document.createElement('tr');
        if (j.jobID === state.jobId) tr.classList.add('selected');
        cell(tr, shortTime(j.created));
        cell(tr, j.case || '');
        cell(tr, j.processID || '', 'process');
        cell(tr, j.status, 'status-' + j.status);
        cell(tr, j.progress + ' %', 'num');
        tr.title = j.jobID + (j.message ? ': ' + j.message : '');
        tr.addEventListener('click', () => openJob(j.case || state.caseName, j.jobID));
        tbody.appendChild(tr);
      }
      $('jobs-note').textContent = shown.length ? '' : 'no job' + (state.caseName ? ' for this case' : '');
    } catch (e) {
      $('jobs-note').textContent = e.message;
    }
  }

  let alertsAvailable = true;
  async function refreshAlerts() {
    if (!alertsAvailable) return;
    try {
      const url = '/api/v1/alerts' + (state.caseName ? '?case=' + enc(state.caseName) : '');
      const doc = await getJson(url);
      const alerts = Array.isArray(doc) ? doc : (doc.alerts || []);
      const tbody = $('alerts').querySelector('tbody');
      tbody.replaceChildren();
      for (const a of alerts.slice(0, 50)) {
        const tr = document.createElement('tr');
        cell(tr, shortTime(a.time));
        cell(tr, a.station_id || '');
        cell(tr, typeof a.rule === 'string' ? a.rule : JSON.stringify(a.rule || ''));
        cell(tr, fmt(a.value), 'num');
        cell(tr, a.job ? String(a.job).slice(0, 8) : '');
        if (a.job) tr.addEventListener('click', () => openJob(a.case || state.caseName, a.job));
        tbody.appendChild(tr);
      }
      $('alerts-note').textContent = alerts.length ? '' : 'no alert' + (state.caseName ? ' for this case' : '');
    } catch (e) {
      if (e.status === 404 || e.status === 405) {
        alertsAvailable = false;
        $('alerts-note').textContent = 'this server has no alerts endpoint';
      } else {
        $('alerts-note').textContent = e.message;
      }
    }
  }

  $('pick').addEventListener('submit', (ev) => {
    ev.preventDefault();
    openJob($('case-input').value.trim(), $('job-input').value.trim(), $('rescale-input').value.trim());
  });

  setStatus(state.caseName ? 'case ' + state.caseName : 'no case open: type a case name');
  loadCase().then(loadJob);
  refreshJobs();
  refreshAlerts();
  setInterval(refreshJobs, 3000);
  setInterval(refreshAlerts, 5000);
})();
