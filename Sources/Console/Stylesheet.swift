/// The console's only stylesheet, served by crmsync itself at `/console/static/console.css`.
enum Stylesheet {
    static let css = #"""
    :root { --ink:#1d2433; --muted:#5c6577; --line:#e3e6ee; --bg:#f5f6fa; --card:#fff; --accent:#2f5bea;
            --ok:#137a4b; --okbg:#e4f5ec; --bad:#b42318; --badbg:#fdecea; --warn:#8a5a00; --warnbg:#fff4d6; --diff:#fff1c2; }
    * { box-sizing: border-box; }
    body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
           color: var(--ink); background: var(--bg); }
    a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
    header.top { display:flex; align-items:center; gap:28px; padding:0 28px; height:56px; background:#17203a; color:#fff; }
    header.top .brand { color:#fff; font-weight:700; font-size:17px; letter-spacing:.2px; }
    header.top nav { display:flex; gap:6px; flex:1; }
    header.top nav a { color:#c9d2ea; padding:6px 12px; border-radius:6px; }
    header.top nav a.active, header.top nav a:hover { color:#fff; background:#2a355a; text-decoration:none; }
    header.top .who { display:flex; align-items:center; gap:10px; color:#c9d2ea; }
    header.top .who form { margin:0; }
    .role { font-size:12px; padding:1px 8px; border-radius:10px; background:#2a355a; color:#fff; }
    main { max-width:1180px; margin:24px auto; padding:0 24px; }
    h1 { font-size:24px; margin:0 0 4px; } h2 { font-size:18px; margin:28px 0 10px; }
    .sub { color: var(--muted); margin:0 0 18px; }
    .card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px 20px; margin-bottom:18px; }
    table { width:100%; border-collapse:collapse; background:var(--card); }
    .card table { margin:0; }
    th, td { text-align:left; padding:9px 12px; border-bottom:1px solid var(--line); vertical-align:top; }
    th { font-size:12px; text-transform:uppercase; letter-spacing:.4px; color:var(--muted); background:#fafbfd; }
    th a, th .prov, th ul { text-transform:none; letter-spacing:0; font-weight:400; }
    tr:last-child td { border-bottom:none; }
    td.diff { background: var(--diff); }
    td.field { font-weight:600; white-space:nowrap; }
    .prov { display:block; font-size:12px; color:var(--muted); }
    .badge { display:inline-block; font-size:12px; font-weight:600; padding:1px 9px; border-radius:10px; background:#e8ecf8; color:#2a3a6b; }
    .badge.identity { background:#ece6fb; color:#4b2a9a; } .badge.field { background:#e3f1fb; color:#0c5a8a; }
    .badge.ok { background:var(--okbg); color:var(--ok); } .badge.bad { background:var(--badbg); color:var(--bad); }
    .badge.warn { background:var(--warnbg); color:var(--warn); }
    .score { display:inline-flex; align-items:center; gap:8px; font-variant-numeric: tabular-nums; }
    .bar { width:70px; height:7px; border-radius:4px; background:#e3e6ee; overflow:hidden; }
    .bar span { display:block; height:100%; background:var(--accent); }
    .muted { color:var(--muted); } .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:13px; }
    .flash { padding:10px 14px; border-radius:8px; margin-bottom:16px; background:var(--okbg); color:var(--ok); border:1px solid #bfe6d0; }
    .flash.error { background:var(--badbg); color:var(--bad); border-color:#f5c2bd; }
    form.filters { display:flex; gap:12px; align-items:end; flex-wrap:wrap; margin-bottom:14px; }
    label { display:block; font-size:13px; color:var(--muted); margin-bottom:4px; }
    input[type=text], input[type=password], input[type=search], select, textarea {
      font:inherit; padding:7px 10px; border:1px solid #cfd4e0; border-radius:7px; background:#fff; min-width:180px; }
    textarea { width:100%; min-height:70px; }
    button { font:inherit; cursor:pointer; padding:8px 16px; border-radius:7px; border:1px solid #cfd4e0; background:#fff; }
    button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
    button.approve { background:var(--ok); border-color:var(--ok); color:#fff; }
    button.reject { background:#fff; border-color:var(--bad); color:var(--bad); }
    button.link { background:none; border:none; color:#c9d2ea; padding:0; }
    .actions { display:flex; gap:10px; margin-top:12px; }
    .pager { display:flex; justify-content:space-between; margin-top:12px; }
    .empty { text-align:center; padding:40px; color:var(--muted); }
    .signin { max-width:380px; margin:80px auto; }
    .signin input { width:100%; margin-bottom:12px; }
    .grid { display:grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap:14px; margin-bottom:18px; }
    .stat { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px 16px; }
    .stat b { display:block; font-size:24px; } .stat span { color:var(--muted); font-size:13px; }
    ul.reasons { margin:6px 0 0; padding-left:18px; font-size:13px; color:var(--muted); }
    .change { font-size:13px; } .change del { color:var(--bad); } .change ins { color:var(--ok); text-decoration:none; }
    """#
}
