import Mustache

/// The console's mustache templates. Every value is rendered with `{{ }}`, which HTML-escapes
/// it: names and emails come from the sources and are attacker-controlled. No triple braces.
enum Templates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in [("header", header), ("footer", footer), ("signin", signin), ("queue", queue),
                             ("request", request), ("record", record), ("health", health), ("message", message),
                             ("deadLetters", deadLetters), ("deadLetter", deadLetter)] {
            try library.register(text, named: name)
        }
        return library
    }

    static let header = #"""
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · crmsync</title><link rel="stylesheet" href="/console/static/console.css"></head>
    <body>
    {{#signedIn}}
    <header class="top">
      <a class="brand" href="/console/reviews">crmsync</a>
      <nav>
        <a href="/console/reviews" {{#navReviews}}class="active"{{/navReviews}}>Review queue</a>
        <a href="/console/records" {{#navRecords}}class="active"{{/navRecords}}>Records</a>
        <a href="/console/health" {{#navHealth}}class="active"{{/navHealth}}>Health</a>
      </nav>
      <div class="who"><span id="who">{{userName}}</span> <span class="role">{{roleName}}</span>
        <form method="post" action="/console/signout"><input type="hidden" name="csrf" value="{{csrf}}"><button class="link" type="submit">Sign out</button></form>
      </div>
    </header>
    {{/signedIn}}
    <main>
    {{#flash}}<div class="flash {{flashKind}}" id="flash">{{flash}}</div>{{/flash}}
    """#

    static let footer = #"""
    </main>
    </body></html>
    """#

    static let signin = #"""
    {{> header}}
    <div class="card signin">
      <h1>Sign in</h1>
      <p class="sub">crmsync console: review queue, records and sync health.</p>
      <form method="post" action="/console/signin">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="name">User name</label><input type="text" id="name" name="name" autocomplete="username" autofocus>
        <label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password">
        <button class="primary" type="submit" id="signin">Sign in</button>
      </form>
    </div>
    {{> footer}}
    """#

    static let message = #"""
    {{> header}}
    <div class="card"><h1>{{heading}}</h1><p>{{text}}</p><p><a href="/console/reviews">Back to the review queue</a></p></div>
    {{> footer}}
    """#

    static let queue = #"""
    {{> header}}
    <h1>Review queue</h1>
    <p class="sub">{{openCount}} open request(s), best match first, then oldest first. Each one waits for a person's decision.</p>
    <form class="filters" method="get" action="/console/reviews">
      <div><label for="kind">Kind</label><select id="kind" name="kind">
        {{#kinds}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/kinds}}</select></div>
      <div><label for="source">Source</label><select id="source" name="source">
        {{#sources}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/sources}}</select></div>
      <button type="submit">Filter</button>
    </form>
    <div class="card" style="padding:0">
    {{#hasRows}}
    <table id="queue">
      <tr><th>Score</th><th>Kind</th><th>About</th><th>Why</th><th>Source</th><th>Waiting</th><th></th></tr>
      {{#rows}}
      <tr>
        <td><span class="score">{{#hasScore}}<span class="bar"><span style="width:{{scorePercent}}%"></span></span>{{/hasScore}}{{score}}</span></td>
        <td><span class="badge {{kind}}">{{kind}}</span></td>
        <td><b>{{subject}}</b><span class="prov">{{detail}}</span></td>
        <td>{{reason}}</td>
        <td>{{source}}</td>
        <td title="{{createdAt}}">{{age}}</td>
        <td><a class="open" href="/console/reviews/{{id}}">Review →</a></td>
      </tr>
      {{/rows}}
    </table>
    {{/hasRows}}
    {{^hasRows}}<div class="empty">Nothing to review here. The queue is clear.</div>{{/hasRows}}
    </div>
    <div class="pager">
      <span>{{#previous}}<a href="{{previous}}">← Previous</a>{{/previous}}</span>
      <span class="muted">Page {{pageNumber}}</span>
      <span>{{#next}}<a href="{{next}}" id="next">Next →</a>{{/next}}</span>
    </div>
    {{> footer}}
    """#

    static let request = #"""
    {{> header}}
    <p><a href="/console/reviews">← Review queue</a></p>
    <h1><span class="badge {{kind}}">{{kind}}</span> {{title}}</h1>
    <p class="sub">{{explanation}} · raised {{age}} by event <span class="mono">{{eventID}}</span> · request <span class="mono">{{id}}</span> · {{statusName}}</p>
    <div class="card" style="padding:0;overflow-x:auto">
    <table id="comparison">
      <tr><th>Field</th>{{#columns}}<th>{{heading}}{{#link}} <a href="{{link}}" class="mono">{{linkText}}</a>{{/link}}
        {{#score}}<span class="prov">score {{score}}</span>{{/score}}
        {{#hasReasons}}<ul class="reasons">{{#reasons}}<li>{{.}}</li>{{/reasons}}</ul>{{/hasReasons}}
        {{#note}}<span class="prov">{{note}}</span>{{/note}}</th>{{/columns}}</tr>
      {{#rows}}
      <tr><td class="field">{{field}}</td>{{#cells}}<td class="{{#differs}}diff{{/differs}}">{{value}}{{#provenance}}<span class="prov">{{provenance}}</span>{{/provenance}}</td>{{/cells}}</tr>
      {{/rows}}
    </table>
    </div>
    <p class="muted">Highlighted cells differ from {{comparedTo}}.</p>
    {{#isOpen}}
    {{#canDecide}}
    <div class="card">
      <h2 style="margin-top:0">Decision</h2>
      <form method="post" action="/console/reviews/{{id}}/decide" id="decide">
        <input type="hidden" name="csrf" value="{{csrf}}">
        {{#hasTargets}}
        <label>Approve into</label>
        {{#targets}}<div><label style="color:inherit"><input type="radio" name="into" value="{{goldenID}}" {{#first}}checked{{/first}}> <span class="mono">{{goldenID}}</span> ({{label}})</label></div>{{/targets}}
        {{/hasTargets}}
        <label for="comment" style="margin-top:10px">Comment (optional, goes with the decision)</label>
        <textarea id="comment" name="comment" maxlength="1000"></textarea>
        <div class="actions">
          <button class="approve" type="submit" name="decision" value="approve" id="approve">{{approveLabel}}</button>
          <button class="reject" type="submit" name="decision" value="reject" id="reject">Reject</button>
        </div>
      </form>
    </div>
    {{/canDecide}}
    {{^canDecide}}<div class="card muted">Your role ({{roleName}}) can look at review requests but not decide them.</div>{{/canDecide}}
    {{/isOpen}}
    {{> footer}}
    """#

    static let record = #"""
    {{> header}}
    <h1>Records</h1>
    <form class="filters" method="get" action="/console/records">
      <div><label for="q">Email, external id (SYSTEM:ID) or golden id</label><input type="search" id="q" name="q" value="{{query}}" style="min-width:360px"></div>
      <button type="submit" class="primary">Find</button>
    </form>
    {{#notFound}}<div class="card muted" id="notfound">{{notFound}}</div>{{/notFound}}
    {{#record}}
    <div class="card">
      <h2 style="margin-top:0"><span class="badge">{{entity}}</span> <span class="mono" id="record-id">{{id}}</span> {{#stateBadge}}<span class="badge {{stateClass}}">{{stateBadge}}</span>{{/stateBadge}}</h2>
      <p class="sub">version {{version}} · created {{createdAt}} · updated {{updatedAt}}{{#requestedOther}} · {{requestedOther}}{{/requestedOther}}</p>
      {{#absorbedInto}}<p class="flash" id="absorbed-note">This record was absorbed by a merge: these are its values as they were then. It now lives on as <a class="mono" href="/console/records?q={{absorbedInto}}">{{absorbedInto}}</a>.</p>{{/absorbedInto}}
      <table id="fields">
        <tr><th>Field</th><th>Value</th><th>Set by</th><th>Rule</th><th>Event</th></tr>
        {{#fields}}<tr><td class="field">{{name}}</td><td>{{value}}</td><td>{{owner}}</td><td>{{rule}}</td><td><span class="mono">{{eventID}}</span><span class="prov">{{occurredAt}}</span></td></tr>{{/fields}}
      </table>
    </div>
    <h2>Consent</h2>
    <div class="card" style="padding:0">{{#hasConsent}}<table><tr><th>Channel</th><th>Purpose</th><th>State</th><th>When</th><th>Via</th></tr>
      {{#consent}}<tr><td>{{channel}}</td><td>{{purpose}}</td><td><span class="badge {{stateClass}}">{{state}}</span></td><td>{{at}}</td><td>{{via}}</td></tr>{{/consent}}</table>{{/hasConsent}}
      {{^hasConsent}}<div class="empty">No consent records.</div>{{/hasConsent}}</div>
    <h2>External ids</h2>
    <div class="card" style="padding:0"><table><tr><th>System</th><th>Ids</th></tr>
      {{#externalIDs}}<tr><td>{{system}}</td><td class="mono">{{ids}}</td></tr>{{/externalIDs}}</table></div>
    <h2>Merges</h2>
    <div class="card" style="padding:0">{{#hasMerges}}<table><tr><th>When</th><th>Survivor</th><th>Absorbed</th><th>Why</th><th>Absorbed ids</th></tr>
      {{#merges}}<tr><td>{{at}}</td><td><a class="mono" href="/console/records?q={{survivor}}">{{survivor}}</a></td><td><a class="mono" href="{{absorbedLink}}">{{absorbed}}</a></td><td>{{reason}}</td><td class="mono">{{ids}}</td></tr>{{/merges}}</table>{{/hasMerges}}
      {{^hasMerges}}<div class="empty">Never merged.</div>{{/hasMerges}}</div>
    <h2>Values kept out</h2>
    <p class="sub">Values an event offered that the ownership policy refused, and why. {{keptOutSummary}}</p>
    <div class="card" style="padding:0">{{#hasKeptOut}}<table id="kept-out"><tr><th>Field</th><th>Offered value</th><th>Offered by</th><th>Why not</th><th>When</th></tr>
      {{#keptOut}}<tr><td class="field">{{field}}</td><td>{{value}}</td><td>{{offeredBy}}<span class="prov mono">{{eventID}}</span></td><td>{{why}}</td><td>{{at}}</td></tr>{{/keptOut}}</table>{{/hasKeptOut}}
      {{^hasKeptOut}}<div class="empty">Every value offered was taken.</div>{{/hasKeptOut}}</div>
    {{#hasReviews}}<h2>Open review requests</h2><div class="card"><ul>{{#reviews}}<li><a href="/console/reviews/{{id}}">{{id}}</a> {{kind}} · {{reason}}</li>{{/reviews}}</ul></div>{{/hasReviews}}
    <h2>Audit timeline <span class="badge {{chainClass}}" id="chain">{{chainState}}</span></h2>
    <p class="sub">{{auditSummary}}</p>
    <div class="card" style="padding:0"><table id="audit"><tr><th>#</th><th>When</th><th>What</th><th>By</th><th>Changes</th></tr>
      {{#audit}}<tr><td>{{seq}}</td><td>{{at}}</td><td>{{operation}}<span class="prov mono">{{eventID}}</span></td><td>{{by}}</td>
        <td>{{#changes}}<div class="change"><b>{{field}}</b>: <del>{{before}}</del> → <ins>{{after}}</ins> <span class="muted">({{rule}})</span></div>{{/changes}}
            {{#rejected}}<div class="change muted">kept out: <b>{{field}}</b> = {{value}} ({{rule}})</div>{{/rejected}}</td></tr>{{/audit}}
    </table></div>
    {{#auditOlder}}<div class="pager"><span></span><a href="{{auditOlder}}">Older entries →</a></div>{{/auditOlder}}
    {{/record}}
    {{> footer}}
    """#

}
