// lxts dashboard: plain browser JavaScript, no build step. Everything comes from the same
// server: /api/* (JSON) and /api/events (Server-Sent Events). Charts by uPlot (vendor/).
// Data never moves the layout: every panel has a fixed size, cards are updated in place.
'use strict';

(() => {
  // ---- token (only when the server needs one): read from #token=..., kept for this tab only,
  // and removed from the address bar so it is not shown on the projector.
  let token = null;
  const hm = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (hm) {
    token = decodeURIComponent(hm[1]);
    try { sessionStorage.setItem('lxts-token', token); } catch { /* private mode */ }
    history.replaceState(null, '', location.pathname + location.search);
  } else {
    try { token = sessionStorage.getItem('lxts-token'); } catch { token = null; }
  }

  // ---- Okabe–Ito palette, one colour per container for the life of the page
  const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#F0E442', '#000000'];
  const LIGHT = new Set(['#E69F00', '#F0E442', '#56B4E9']); // need dark text on top
  const colours = new Map();
  function colourOf(name) {
    if (!colours.has(name)) colours.set(name, PALETTE[colours.size % PALETTE.length]);
    return colours.get(name);
  }

  // ---- helpers
  const $ = (id) => document.getElementById(id);
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'style') for (const [p, val] of Object.entries(v)) el.style.setProperty(p, val);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
    return el;
  }
  function bytes(n) {
    if (n === null || n === undefined) return '–';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${u[i]}`;
  }
  const pct = (v, d = 1) => (v === null || v === undefined || !isFinite(v) ? '–' : `${v.toFixed(d)} %`);
  function ago(iso) {
    if (!iso) return '–';
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    const t = new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    const rel = s < 90 ? `${Math.round(s)} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
    return `${t} (${rel})`;
  }
  /** Demo containers are named webdemoN-PID-I: show "demo I". */
  function label(name) {
    const m = /^webdemo\d+-\d+-(\d+)$/.exec(name) || /^demo-\d+-(\d+)$/.exec(name);
    return m ? `demo ${m[1]}` : name;
  }
  function toast(msg, ok) {
    const t = h('div', { class: ok ? 'toast ok' : 'toast', role: 'status' }, msg);
    $('toasts').append(t);
    setTimeout(() => t.remove(), ok ? 3500 : 8000);
  }
  async function api(method, path, body) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data?.error?.message || `${method} ${path}: HTTP ${r.status}`);
    return data;
  }

  // ---- state
  const S = {
    host: null,
    containers: [],
    tree: null,
    demo: { state: 'idle', info: null, samples: [], summary: null },
    busy: new Map(), // name -> action in flight
  };

  // ================================================================ containers (cards)
  const cards = new Map();
  function innermostOf(pid) {
    const p = S.tree?.processes.find((x) => x.pid === pid);
    return p && p.nspid.length > 1 ? p.nspid[p.nspid.length - 1] : null;
  }
  function cpuLimitText(l) {
    const parts = [];
    if (l.cpuWeightKey === 'cpu.weight' || (l.cpuWeightKey === null && l.cpuWeight !== null)) parts.push(`weight ${l.cpuWeight}`);
    else if (l.cpuShares !== null) parts.push(`shares ${l.cpuShares}`);
    parts.push(l.cpuQuota === null ? 'no quota' : `quota ${+l.cpuQuota.toFixed(2)} CPU`);
    if (l.cpuset) parts.push(`CPUs ${l.cpuset}`);
    return parts.join(' · ');
  }
  function makeCard(name) {
    const f = {};
    const dd = (k, cls) => (f[k] = h('dd', { class: cls }));
    const btn = (text, action, cls) => (f['b_' + action] = h('button', { class: `btn ${cls || ''}`, type: 'button', 'data-action': action, onclick: () => act(name, action) }, text));
    const el = h('article', { class: 'card', 'data-container': name, style: { '--c': colourOf(name) } },
      h('div', { class: 'card-head' }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), h('span', { class: 'name', title: name }, name), (f.state = h('span', { class: 'state' }))),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Hostname'), dd('hostname'),
        h('dt', {}, 'Init PID'), dd('pid'),
        h('dt', {}, 'Monitor'), dd('monitor'),
        h('dt', {}, 'Root fs'), dd('rootfs', 'mono wrap'),
        h('dt', {}, 'Network'), dd('net'),
        h('dt', {}, 'CPU limit'), dd('cpulim'),
        h('dt', {}, 'Memory limit'), dd('memlim'),
        h('dt', {}, 'PIDs limit'), dd('pidlim'),
        h('dt', {}, 'Started'), dd('started'),
      ),
      h('div', { class: 'meters' },
        h('div', { class: 'meter' }, h('div', { class: 'k' }, 'CPU'), (f.mcpu = h('div', { class: 'v' })), (f.mcpuof = h('div', { class: 'of' }, 'of one CPU'))),
        h('div', { class: 'meter' }, h('div', { class: 'k' }, 'Memory'), (f.mmem = h('div', { class: 'v' })), (f.mmemof = h('div', { class: 'of' }))),
        h('div', { class: 'meter' }, h('div', { class: 'k' }, 'Processes'), (f.mpid = h('div', { class: 'v' })), (f.mpidof = h('div', { class: 'of' }))),
      ),
      (f.note = h('div', { class: 'note' })),
      h('div', { class: 'actions' }, btn('Start', 'start', 'primary'), btn('Stop', 'stop'), btn('Freeze', 'freeze'), btn('Destroy', 'destroy', 'danger')),
    );
    return { el, f };
  }
  function setText(el, text, title) {
    if (el.textContent !== text) el.textContent = text;
    if (title !== undefined && el.title !== title) el.title = title;
  }
  function renderCards() {
    const box = $('cards');
    const names = S.containers.map((c) => c.name);
    if (!names.length) {
      cards.clear();
      box.replaceChildren(h('p', { class: 'empty' }, `No containers in ${S.host?.lxtspath ?? 'the lxtspath'} yet: create one above (busybox starts in a fraction of a second).`));
      return;
    }
    box.querySelector('.empty')?.remove();
    for (const [n, c] of cards) if (!names.includes(n)) { c.el.remove(); cards.delete(n); }
    S.containers.forEach((v, i) => {
      let c = cards.get(v.name);
      if (!c) { c = makeCard(v.name); cards.set(v.name, c); }
      if (box.children[i] !== c.el) box.insertBefore(c.el, box.children[i] || null);
      const f = c.f;
      const busy = S.busy.get(v.name);
      const running = v.state === 'RUNNING' || v.state === 'FROZEN' || v.state === 'STOPPING';
      c.el.dataset.state = v.state;
      f.state.className = `state ${v.state}`;
      setText(f.state, v.state);
      setText(f.hostname, v.hostname ?? '–');
      const inner = v.pid ? innermostOf(v.pid) : null;
      const pidKey = `${v.pid}:${inner}`;
      if (f.pid.dataset.key !== pidKey) {
        f.pid.dataset.key = pidKey;
        f.pid.replaceChildren(...(v.pid ? [h('span', { class: 'pid host' }, `host ${v.pid}`), inner !== null ? h('span', { class: 'arrow' }, ' → ') : null, inner !== null ? h('span', { class: `pid inner${inner === 1 ? ' one' : ''}`, style: { '--c': colourOf(v.name) } }, String(inner)) : null, inner !== null ? ' inside' : ''] : ['–']));
      }
      setText(f.monitor, v.monitorPid ? `lxts-exec, PID ${v.monitorPid}` : '–');
      setText(f.rootfs, v.rootfs ?? '–', v.rootfs ?? '');
      const net = v.network;
      setText(f.net, !running ? '–' : net.mode === 'host' ? "the host's network" : net.mode === 'own' ? `own namespace: ${[...net.ipv4, ...net.ipv6].join(', ') || 'loopback only'}` : '–');
      const l = v.limits;
      setText(f.cpulim, cpuLimitText(l));
      setText(f.memlim, l.memoryMax === null ? 'none' : bytes(l.memoryMax));
      setText(f.pidlim, l.pidsMax === null ? 'none' : String(l.pidsMax));
      setText(f.started, running ? ago(v.startedAt) : '–');
      const st = v.stats;
      setText(f.mcpu, running && v.cpuPct !== null ? pct(v.cpuPct) : '–');
      setText(f.mmem, st ? bytes(st.memory.current) : '–');
      setText(f.mmemof, st ? (st.memory.limit !== null ? `of ${bytes(st.memory.limit)}` : 'no limit') : '');
      setText(f.mpid, st ? String(st.pids.current) : '–');
      setText(f.mpidof, st ? (st.pids.max !== null ? `of ${st.pids.max}` : 'no limit') : '');
      setText(f.note, busy ? `${busy}…` : v.note ?? '', v.note ?? '');
      f.b_start.disabled = !!busy || !(v.state === 'STOPPED' || v.state === 'BROKEN');
      f.b_stop.disabled = !!busy || !(running || v.state === 'BROKEN');
      setText(f.b_freeze, v.state === 'FROZEN' ? 'Unfreeze' : 'Freeze');
      f.b_freeze.dataset.action = v.state === 'FROZEN' ? 'unfreeze' : 'freeze';
      f.b_freeze.disabled = !!busy || !(v.state === 'RUNNING' || v.state === 'FROZEN');
      f.b_destroy.disabled = !!busy || running;
    });
  }
  async function act(name, action) {
    if (action === 'freeze') action = cards.get(name)?.f.b_freeze.dataset.action || 'freeze';
    if (action === 'destroy' && !confirm(`Destroy container "${name}"? Its root file system and config are deleted.`)) return;
    const words = { start: 'starting', stop: 'stopping', freeze: 'freezing', unfreeze: 'thawing', destroy: 'destroying' };
    S.busy.set(name, words[action]);
    renderCards();
    try {
      let r;
      if (action === 'destroy') r = await api('DELETE', `/api/containers/${encodeURIComponent(name)}`);
      else r = await api('POST', `/api/containers/${encodeURIComponent(name)}/${action}`, action === 'stop' ? { timeoutSec: 10 } : undefined);
      const v = S.containers.find((c) => c.name === name);
      if (v && r.state) { v.state = r.state; v.pid = r.pid ?? null; }
      if (action === 'destroy') S.containers = S.containers.filter((c) => c.name !== name);
    } catch (e) {
      toast(`${name}: ${e.message}`);
    } finally {
      S.busy.delete(name);
      renderCards();
      renderBars();
    }
  }
  $('create-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('create-name').value.trim();
    const template = $('create-template').value;
    const btn = ev.submitter || $('create-form').querySelector('button');
    btn.disabled = true;
    $('create-progress').textContent = `creating ${name}…`;
    try {
      await api('POST', '/api/containers', { name, template });
      $('create-progress').textContent = `created ${name}`;
      $('create-name').value = '';
    } catch (e) {
      $('create-progress').textContent = '';
      toast(e.message);
    } finally {
      btn.disabled = false;
    }
  });

  // ================================================================ process tree
  function pidChips(p, colour) {
    const chips = [h('span', { class: 'pid host', title: 'PID on the host' }, `host ${p.nspid[0]}`)];
    for (let i = 1; i < p.nspid.length; i++) {
      const inner = i === p.nspid.length - 1;
      chips.push(h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→'));
      chips.push(h('span', { class: `pid inner${inner && p.nspid[i] === 1 ? ' one' : ''}`, style: { '--c': colour }, title: inner ? 'PID inside the container' : 'PID in an intermediate namespace' }, String(p.nspid[i])));
    }
    return h('span', { class: 'pids' }, chips);
  }
  function cmdText(p) {
    const full = p.cmdline.length ? p.cmdline.join(' ') : `[${p.comm}]`;
    return full;
  }
  function procRow(p, guide, colour, role, container) {
    const full = cmdText(p);
    const args = p.cmdline.length > 1 ? p.cmdline.slice(1).join(' ') : '';
    return h('div', { class: 'proc', 'data-pid': p.pid, 'data-innermost-pid': p.nspid[p.nspid.length - 1], 'data-container': container || '', title: full },
      guide ? h('span', { class: 'guide', 'aria-hidden': 'true' }, guide) : null,
      pidChips(p, colour),
      h('span', { class: 'cmd' }, h('span', { class: 'comm' }, p.comm), args ? ' ' + args : ''),
      role ? h('span', { class: 'role' }, role) : null,
    );
  }
  function renderTree() {
    const snap = S.tree;
    if (!snap) return;
    const by = new Map(snap.processes.map((p) => [p.pid, p]));
    const out = [];
    const init = snap.hostInit !== null ? by.get(snap.hostInit) : null;
    if (init) {
      out.push(h('div', { class: 'hostinit proc', 'data-pid': init.pid, 'data-innermost-pid': init.nspid[init.nspid.length - 1], 'data-container': '' },
        h('span', { class: 'pids' }, h('span', { class: 'pid host' }, `host ${init.pid}`)),
        h('span', { class: 'cmd' }, h('span', { class: 'comm' }, init.comm)),
        h('span', { class: 'role' }, "the host's PID 1")));
    }
    if (!snap.containers.length) out.push(h('p', { class: 'empty' }, 'No running containers.'));
    for (const g of snap.containers) {
      const colour = colourOf(g.name);
      const rows = [];
      const inG = new Set(g.pids);
      if (g.monitorPid !== null && by.get(g.monitorPid)) {
        const m = by.get(g.monitorPid);
        rows.push(procRow({ ...m, cmdline: [] }, '', colour, 'monitor', g.name));
      }
      const draw = (pid, prefix, last, depth) => {
        const p = by.get(pid);
        if (!p) return;
        const base = g.monitorPid !== null ? 1 : 0;
        const d = depth + base;
        const guide = d === 0 ? '' : prefix + (last ? '└─ ' : '├─ ');
        rows.push(procRow(p, guide, colour, p.role === 'init' ? (p.nspid[p.nspid.length - 1] === 1 ? 'init · PID 1' : 'top') : '', g.name));
        const kids = p.children.filter((c) => inG.has(c));
        const np = d === 0 ? '' : prefix + (last ? '   ' : '│  ');
        kids.forEach((c, i) => draw(c, np, i === kids.length - 1, depth + 1));
      };
      const tops = g.pids.filter((pid) => !inG.has(by.get(pid)?.ppid));
      tops.forEach((t, i) => draw(t, '', i === tops.length - 1, 0));
      const ns = g.pidns ? g.pidns.replace(/^pid:\[(\d+)\]$/, '$1') : null;
      out.push(h('div', { class: 'group', 'data-group': g.name, style: { '--c': colour } },
        h('div', { class: 'group-head' }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), h('span', { class: 'gname' }, label(g.name)),
          h('span', { class: 'thin' }, `${g.pids.length} process${g.pids.length === 1 ? '' : 'es'}${g.known ? '' : label(g.name) !== g.name ? ' · the demo' : ' · another lxtspath'}`),
          ns ? h('span', { class: 'ns' }, `PID namespace ${ns}`) : null),
        rows));
    }
    $('tree-body').replaceChildren(...out);

    // host processes outside containers (drawn only while open)
    const inC = new Set(snap.containers.flatMap((g) => [...g.pids, ...(g.monitorPid !== null ? [g.monitorPid] : [])]));
    const hostProcs = snap.processes.filter((p) => !inC.has(p.pid));
    $('host-count').textContent = `(${hostProcs.length})`;
    if ($('host-procs').open) renderHostTree(snap, by, inC);
  }
  function renderHostTree(snap, by, inC) {
    const rows = [];
    const draw = (pid, prefix, last, depth) => {
      const p = by.get(pid);
      if (!p || inC.has(pid)) return;
      rows.push(procRow(p, depth === 0 ? '' : prefix + (last ? '└─ ' : '├─ '), '#5b6573', '', ''));
      const kids = p.children.filter((c) => !inC.has(c));
      const np = depth === 0 ? '' : prefix + (last ? '   ' : '│  ');
      kids.forEach((c, i) => draw(c, np, i === kids.length - 1, depth + 1));
    };
    snap.roots.forEach((r, i) => draw(r, '', i === snap.roots.length - 1, 0));
    $('host-tree').replaceChildren(...rows);
  }
  $('host-procs').addEventListener('toggle', () => renderTree());

  // ================================================================ resource partition
  function demoItems() {
    const d = S.demo;
    const s = d.samples[d.samples.length - 1];
    if (!d.info || !s || d.state === 'idle') return [];
    return d.info.containers.map((c, i) => ({
      name: c.name, cpuPct: s.containers[i]?.cpuPct ?? 0,
      weight: d.info.weightFile === 'cpu.weight' ? c.weight : c.shares, weightKey: d.info.weightFile,
    }));
  }
  function bar(items, cls) {
    const total = items.reduce((a, b) => a + b.value, 0);
    const segs = total > 0 ? items.filter((it) => it.value > 0).map((it) => {
      const share = (it.value / total) * 100;
      const c = colourOf(it.name);
      return h('div', { class: `seg${LIGHT.has(c) ? ' light' : ''}${it.hatch ? ' hatch' : ''}`, style: { '--c': c, 'flex-basis': `${share}%` }, title: `${label(it.name)}: ${share.toFixed(1)} %` },
        share >= 9 ? `${share >= 20 ? label(it.name) + ' ' : ''}${share.toFixed(0)}%` : '');
    }) : [];
    return h('div', { class: `bar ${cls || ''}`, role: 'img', 'aria-label': items.map((it) => `${label(it.name)} ${total ? ((it.value / total) * 100).toFixed(1) : 0}%`).join(', ') }, segs);
  }
  function legend(rows) {
    return h('div', { class: 'legend' }, rows.flatMap((r) => [
      h('span', { class: 'swatch', style: { '--c': colourOf(r.name) } }),
      h('span', { class: 'lname', title: r.name }, label(r.name)),
      h('span', { class: 'lval', title: r.text }, r.text),
    ]));
  }
  function renderBars() {
    const live = S.containers.filter((c) => c.state === 'RUNNING' || c.state === 'FROZEN' || c.state === 'STOPPING');
    const demo = demoItems();
    const ncpu = S.host?.cpus ?? 1;
    const cpuItems = [
      ...live.map((c) => ({ name: c.name, value: Math.max(0, c.cpuPct ?? 0), weight: c.limits.cpuWeightKey === 'cpu.weight' ? c.limits.cpuWeight : c.limits.cpuShares, weightKey: c.limits.cpuWeightKey ?? 'cpu.shares', cpuset: c.limits.cpuset })),
      ...demo.map((d) => ({ name: d.name, value: Math.max(0, d.cpuPct), weight: d.weight, weightKey: d.weightKey, cpuset: S.demo.info ? String(S.demo.info.cpu) : null })),
    ];
    const cpuTotal = cpuItems.reduce((a, b) => a + b.value, 0);
    // weights only divide the CPU between containers that want it: compare those that run
    const busy = cpuItems.filter((i) => i.value >= 1);
    const competing = busy.length ? busy : cpuItems;
    const wTotal = competing.reduce((a, b) => a + (b.weight || 0), 0);
    const weightKey = cpuItems[0]?.weightKey ?? 'cpu.shares';
    const cpu = h('div', { class: 'res', 'data-resource': 'cpu' },
      h('h3', {}, 'CPU', h('span', { class: 'cap' }, `containers use ${(cpuTotal / 100).toFixed(2)} of ${ncpu} CPU${ncpu === 1 ? '' : 's'}`)),
      h('div', { class: 'barlabel' }, 'measured: share of the CPU time the containers used, last second'),
      bar(cpuItems.map((i) => ({ name: i.name, value: i.value }))),
      h('div', { class: 'barlabel' }, `promised by the weights (${weightKey}) of the ${busy.length ? 'busy' : ''} containers when they compete`),
      bar(competing.map((i) => ({ name: i.name, value: i.weight || 0, hatch: true })), 'thin'),
      legend(cpuItems.map((i) => ({
        name: i.name,
        text: `${cpuTotal > 0 ? ((i.value / cpuTotal) * 100).toFixed(1) : '0.0'} % of it (${pct(i.value)} of a CPU) · ${i.weightKey === 'cpu.weight' ? 'weight' : 'shares'} ${i.weight ?? '–'}${wTotal && competing.includes(i) ? ` → ${((i.weight / wTotal) * 100).toFixed(0)} %` : ''}${i.cpuset ? ` · CPU ${i.cpuset}` : ''}`,
      }))),
    );
    const memTotal = live.reduce((a, c) => a + (c.stats?.memory.current ?? 0), 0);
    const mem = h('div', { class: 'res', 'data-resource': 'memory' },
      h('h3', {}, 'Memory', h('span', { class: 'cap' }, `containers use ${bytes(memTotal)} of the host's ${bytes(S.host?.memoryTotal)}`)),
      h('div', { class: 'barlabel' }, 'split of the memory the containers use'),
      bar(live.map((c) => ({ name: c.name, value: c.stats?.memory.current ?? 0 }))),
      legend(live.map((c) => {
        const m = c.stats?.memory;
        return { name: c.name, text: m ? `${bytes(m.current)} · ${m.limit !== null ? `limit ${bytes(m.limit)} (${((m.current / m.limit) * 100).toFixed(1)} % of it)` : 'no limit'}` : '–' };
      })),
    );
    const pidTotal = live.reduce((a, c) => a + (c.stats?.pids.current ?? 0), 0);
    const pids = h('div', { class: 'res', 'data-resource': 'pids' },
      h('h3', {}, 'Processes', h('span', { class: 'cap' }, `containers run ${pidTotal} process${pidTotal === 1 ? '' : 'es'}${S.host?.pidMax ? ` (the host allows ${S.host.pidMax})` : ''}`)),
      h('div', { class: 'barlabel' }, 'split of the processes (pids controller)'),
      bar(live.map((c) => ({ name: c.name, value: c.stats?.pids.current ?? 0 }))),
      legend(live.map((c) => {
        const p = c.stats?.pids;
        return { name: c.name, text: p ? `${p.current} · ${p.max !== null ? `limit ${p.max}` : 'no limit'}` : '–' };
      })),
    );
    const none = !cpuItems.length ? h('p', { class: 'empty' }, 'No running containers: start one, or run the demo.') : null;
    $('bars').replaceChildren(...(none ? [none] : []), cpu, mem, pids);
  }

  // ================================================================ live charts (uPlot)
  const HISTORY = 300;
  const T = []; // seconds
  const cpuData = new Map(); // name -> values
  const memData = new Map();
  const memLimit = new Map();
  let cpuPlot = null, memPlot = null, cpuKey = '', memKey = '';
  function push(map, name, v, len) {
    if (!map.has(name)) map.set(name, new Array(len).fill(null));
    map.get(name).push(v);
  }
  function axisFont() { return '600 14px system-ui, "DejaVu Sans", sans-serif'; }
  const hms = (t) => new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  function baseAxes(yLabel, fmt) {
    return [
      { stroke: '#4a515c', font: axisFont(), grid: { stroke: '#e6e9ee' }, ticks: { stroke: '#cfd5dd' }, space: 90, incrs: [10, 15, 30, 60, 120, 300], values: (u, vals) => vals.map(hms) },
      { label: yLabel, labelFont: axisFont(), stroke: '#4a515c', font: axisFont(), grid: { stroke: '#e6e9ee' }, ticks: { stroke: '#cfd5dd' }, size: 70, values: (u, vals) => vals.map(fmt) },
    ];
  }
  function sizeOf(el) {
    return { width: Math.max(300, el.clientWidth), height: el.clientHeight - 40 };
  }
  function buildPlot(el, old, series, data, yLabel, fmt, range) {
    old?.destroy();
    el.replaceChildren();
    const opts = {
      ...sizeOf(el),
      scales: { x: { time: true, range: (u, min, max) => { const hi = T.length ? T[T.length - 1] : Date.now() / 1000; return [hi - HISTORY, hi]; } }, y: { range } },
      axes: baseAxes(yLabel, fmt),
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [{}, ...series],
    };
    return new uPlot(opts, data, el);
  }
  function updateCharts(t, views) {
    const len = T.length;
    T.push(t / 1000);
    const live = views.filter((c) => c.state !== 'STOPPED');
    const seen = new Set();
    for (const c of live) {
      push(cpuData, c.name, c.cpuPct ?? null, len);
      push(memData, c.name, c.stats ? c.stats.memory.current / 1048576 : null, len);
      push(memLimit, c.name, c.limits.memoryMax !== null ? c.limits.memoryMax / 1048576 : null, len);
      seen.add(c.name);
    }
    const s = S.demo.samples[S.demo.samples.length - 1];
    if (S.demo.info && s && S.demo.state !== 'idle') {
      S.demo.info.containers.forEach((dc, i) => { push(cpuData, dc.name, s.containers[i]?.cpuPct ?? null, len); seen.add(dc.name); });
    }
    for (const m of [cpuData, memData, memLimit]) for (const [n, arr] of m) if (!seen.has(n) || arr.length < T.length) arr.push(null);
    if (T.length > HISTORY) {
      T.shift();
      for (const m of [cpuData, memData, memLimit]) for (const arr of m.values()) arr.shift();
    }
    // drop series that have been empty for the whole window
    for (const m of [cpuData, memData, memLimit]) for (const [n, arr] of m) if (arr.every((v) => v === null)) m.delete(n);
    drawCharts();
  }
  function drawCharts() {
    const cpuNames = [...cpuData.keys()];
    const key = cpuNames.join('|');
    const cpuSeries = cpuNames.map((n) => ({ label: `${label(n)} (%)`, stroke: colourOf(n), width: 3, spanGaps: false, points: { show: false } }));
    const cpuArr = [T.slice(), ...cpuNames.map((n) => cpuData.get(n).slice())];
    const cpuEl = $('cpu-chart');
    const yCpu = (u, min, max) => [0, Math.max(100, Math.ceil((max || 0) / 50) * 50)];
    if (!cpuPlot || key !== cpuKey) { cpuPlot = buildPlot(cpuEl, cpuPlot, cpuSeries, cpuArr, 'CPU (% of one CPU)', (v) => `${v} %`, yCpu); cpuKey = key; }
    else cpuPlot.setData(cpuArr);
    cpuEl.dataset.points = String(T.length);

    const memNames = [...memData.keys()];
    const limNames = [...memLimit.keys()];
    const mkey = memNames.join('|') + '#' + limNames.join('|');
    const memSeries = [
      ...memNames.map((n) => ({ label: `${label(n)} (MiB)`, stroke: colourOf(n), width: 3, points: { show: false } })),
      ...limNames.map((n) => ({ label: `${label(n)} limit`, stroke: colourOf(n), width: 2, dash: [8, 6], points: { show: false } })),
    ];
    const memArr = [T.slice(), ...memNames.map((n) => memData.get(n).slice()), ...limNames.map((n) => memLimit.get(n).slice())];
    const memEl = $('mem-chart');
    const yMem = (u, min, max) => [0, Math.max(1, (max || 0) * 1.2)];
    const fmtMem = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
    if (!memPlot || mkey !== memKey) { memPlot = buildPlot(memEl, memPlot, memSeries, memArr, 'Memory (MiB)', fmtMem, yMem); memKey = mkey; }
    else memPlot.setData(memArr);
    memEl.dataset.points = String(T.length);
  }

  // ================================================================ the demo
  let demoPlot = null, demoKey = '';
  function renderDemo() {
    const d = S.demo;
    const running = d.state !== 'idle';
    $('demo-run').disabled = running;
    $('demo-stop').disabled = !running || d.state === 'stopping';
    const s = d.samples[d.samples.length - 1];
    let status = 'idle';
    if (d.state === 'starting') status = 'starting the containers…';
    else if (d.state === 'running') status = `running: ${s ? (s.elapsedMs / 1000).toFixed(0) : 0} s of ${d.info?.durationSec ?? d.durationSec} s · all on CPU ${d.info?.cpu ?? '?'}${s?.warmup ? ' · warm-up (not counted)' : ''}`;
    else if (d.state === 'stopping') status = 'stopping: removing the demo containers…';
    else if (d.summary) status = `finished: ${d.summary.measuredSec.toFixed(0)} s measured, max error ${d.summary.maxErrorPp.toFixed(2)} pp`;
    else if (d.error) status = `failed: ${d.error}`;
    $('demo-status').textContent = status;

    // chart: x = seconds since the start of the measurement
    const el = $('demo-chart');
    const info = d.info;
    if (!info) {
      if (!demoPlot) {
        demoPlot = buildDemoPlot(el, null, [], [[], []]);
      }
      renderDemoTable();
      return;
    }
    const xs = d.samples.map((x) => x.elapsedMs / 1000);
    const series = [];
    const data = [xs];
    info.containers.forEach((c, i) => {
      const col = colourOf(c.name);
      series.push({ label: `${label(c.name)} measured`, stroke: col, width: 3.5, points: { show: false } });
      data.push(d.samples.map((x) => x.containers[i]?.cumulative ?? null));
      series.push({ label: `${label(c.name)} each second`, stroke: col + '66', width: 1.5, points: { show: false } });
      data.push(d.samples.map((x) => x.containers[i]?.share ?? null));
      series.push({ label: `${label(c.name)} target ${c.target} %`, stroke: col, width: 2, dash: [10, 6], points: { show: false } });
      data.push(d.samples.map(() => c.target));
    });
    const key = info.containers.map((c) => c.name).join('|');
    if (!demoPlot || key !== demoKey) { demoPlot = buildDemoPlot(el, demoPlot, series, data); demoKey = key; }
    else demoPlot.setData(data);
    el.dataset.points = String(xs.length);
    renderDemoTable();
  }
  function buildDemoPlot(el, old, series, data) {
    old?.destroy();
    el.replaceChildren();
    const opts = {
      ...sizeOf(el),
      scales: { x: { time: false, range: (u, min, max) => [0, Math.max(10, max || 0)] }, y: { range: [0, 100] } },
      axes: [
        { label: 'seconds since all containers run', labelFont: axisFont(), stroke: '#4a515c', font: axisFont(), grid: { stroke: '#e6e9ee' }, values: (u, v) => v.map((x) => `${x} s`) },
        { label: 'share of the CPU time (%)', labelFont: axisFont(), stroke: '#4a515c', font: axisFont(), grid: { stroke: '#e6e9ee' }, size: 70, values: (u, v) => v.map((x) => `${x} %`) },
      ],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [{}, ...series],
    };
    return new uPlot(opts, data, el);
  }
  function renderDemoTable() {
    const d = S.demo;
    const box = $('demo-table');
    const info = d.info;
    if (!info) {
      box.replaceChildren(h('p', { class: 'empty' }, 'Press “Run the demo”: two (or more) containers compete for one CPU, and the chart shows their shares converge to the split.'));
      return;
    }
    const s = d.samples[d.samples.length - 1];
    const sum = d.summary && d.state === 'idle' ? d.summary : null;
    const rows = info.containers.map((c, i) => {
      const cs = s?.containers[i];
      const measured = sum ? sum.containers[i]?.measured : cs?.cumulative;
      const err = sum ? sum.containers[i]?.errorPp : cs?.errorPp;
      return h('tr', {},
        h('td', {}, h('span', { class: 'swatch', style: { '--c': colourOf(c.name), display: 'inline-block', 'vertical-align': '-2px', 'margin-right': '8px' } }), label(c.name)),
        h('td', {}, String(info.weightFile === 'cpu.weight' ? c.weight : c.shares)),
        h('td', {}, `${c.target} %`),
        h('td', {}, measured === null || measured === undefined ? '–' : `${measured.toFixed(1)} %`),
        h('td', {}, err === null || err === undefined ? '–' : `${Math.abs(err).toFixed(2)} pp`));
    });
    const maxErr = sum ? sum.maxErrorPp : s?.maxErrorPp;
    box.replaceChildren(
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Container'), h('th', {}, info.weightFile), h('th', {}, 'Target'), h('th', {}, 'Measured'), h('th', {}, 'Error'))), h('tbody', {}, rows)),
      h('div', { class: 'bigerr' },
        h('div', { class: 'k' }, sum ? 'Largest error, whole run' : 'Largest error so far (cumulative share − target)'),
        h('div', { class: 'v', 'data-demo-error': maxErr ?? '' }, maxErr === null || maxErr === undefined ? (s?.warmup ? 'warm-up…' : '–') : `${Math.abs(maxErr).toFixed(2)} pp`),
        h('div', { class: 'k' }, s ? `the demo kept CPU ${info.cpu} ${s.totalCpuPct.toFixed(0)} % busy in the last second` : ''),
      ),
    );
  }
  $('demo-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const split = $('demo-split').value.trim();
    const durationSec = Number($('demo-duration').value);
    $('demo-run').disabled = true;
    try {
      const st = await api('POST', '/api/demo', { split, durationSec });
      S.demo = st;
      renderDemo();
    } catch (e) {
      toast(e.message);
      $('demo-run').disabled = false;
    }
  });
  $('demo-stop').addEventListener('click', async () => {
    try {
      S.demo = await api('DELETE', '/api/demo');
      renderDemo();
    } catch (e) {
      toast(e.message);
    }
  });

  // ================================================================ the stream
  function onDemoEvent(e) {
    const d = S.demo;
    switch (e.type) {
      case 'status': S.demo = e.status; break;
      case 'state': d.state = e.state; if (e.state === 'starting') { d.info = null; d.samples = []; d.summary = null; d.error = null; d.durationSec = e.durationSec; } break;
      case 'running': d.info = e.info; d.state = 'running'; break;
      case 'sample': d.samples.push(e.sample); if (d.samples.length > 600) d.samples.shift(); break;
      case 'stopping': d.state = 'stopping'; break;
      case 'done': d.summary = e.summary; if (e.note) toast(e.note, true); break;
      case 'error': d.error = e.message; toast(`demo: ${e.message}`); break;
      default: break;
    }
    renderDemo();
    if (e.type === 'sample' || e.type === 'state') renderBars();
  }
  function hostFacts() {
    const hst = S.host;
    if (!hst) return;
    $('host-name').textContent = hst.hostname;
    $('host-facts').textContent = `Linux ${hst.kernel} · ${hst.cpus} CPUs · ${bytes(hst.memoryTotal)} · cgroups ${hst.cgroupLayout ?? '?'} · ${hst.lxtspath}`;
    document.title = `lxts — ${hst.hostname}`;
  }
  function connect() {
    const es = new EventSource(`/api/events${token ? `?token=${encodeURIComponent(token)}` : ''}`);
    const live = (state, text) => { $('live').dataset.state = state; $('live-text').textContent = text; };
    es.addEventListener('open', () => live('live', 'live'));
    es.addEventListener('error', () => live('reconnecting', es.readyState === 2 ? 'disconnected' : 'reconnecting…'));
    es.addEventListener('hello', (m) => { S.host = JSON.parse(m.data); hostFacts(); });
    es.addEventListener('containers', (m) => {
      const d = JSON.parse(m.data);
      S.containers = d.containers;
      renderCards();
      renderBars();
      updateCharts(d.t, d.containers);
      live('live', `live · ${new Date(d.t).toLocaleTimeString()}`);
    });
    es.addEventListener('processes', (m) => { S.tree = JSON.parse(m.data); renderTree(); renderCards(); });
    es.addEventListener('state', (m) => {
      const e = JSON.parse(m.data);
      const v = S.containers.find((c) => c.name === e.name);
      if (v && e.to !== 'DESTROYED') { v.state = e.to; v.pid = e.pid; renderCards(); }
    });
    es.addEventListener('demo', (m) => onDemoEvent(JSON.parse(m.data)));
    es.addEventListener('create', (m) => {
      const e = JSON.parse(m.data);
      $('create-progress').textContent = e.error ? `${e.name}: ${e.error}` : `${e.name}: ${e.message}${e.fraction !== null && !e.done ? ` (${Math.round(e.fraction * 100)} %)` : ''}`;
    });
    es.addEventListener('bye', () => live('reconnecting', 'server stopped'));
  }

  async function init() {
    try {
      const tpl = await api('GET', '/api/templates');
      $('create-template').replaceChildren(...tpl.map((t) => h('option', { value: t.name, title: t.summary, selected: t.name === 'busybox' }, t.name)));
    } catch (e) {
      toast(e.message);
    }
    renderDemo();
    connect();
    const ro = new ResizeObserver(() => {
      for (const [p, id] of [[cpuPlot, 'cpu-chart'], [memPlot, 'mem-chart'], [demoPlot, 'demo-chart']]) if (p) p.setSize(sizeOf($(id)));
    });
    for (const id of ['cpu-chart', 'mem-chart', 'demo-chart']) ro.observe($(id));
    window.lxtsDashboard = { state: S, points: () => T.length };
  }
  init();
})();
