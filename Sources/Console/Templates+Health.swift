/// The health and dead-letter pages' templates (``Templates`` registers them). As everywhere,
/// only `{{ }}`: letter bytes and headers are attacker-controlled text.
extension Templates {
    static let health = #"""
    {{> header}}
    <h1>Sync health</h1>
    <p class="sub">The store's own numbers, the same as <span class="mono">crmsync stats</span> and <span class="mono">/metrics</span>. Failure line: 1% of the events dead-lettered (the alert needs 100 events in the hour).</p>
    <div class="grid">
      <div class="stat"><b>{{openReviews}}</b><span>open review requests</span></div>
      <div class="stat"><b>{{outboxUnsent}}</b><span>outputs waiting to be published · {{oldestUnsent}}</span></div>
      <div class="stat"><b>{{parked}}</b><span>outputs parked as undeliverable</span></div>
      <div class="stat"><b>{{alarmTotal}}</b><span>alarms raised</span></div>
      {{#lagKnown}}<div class="stat"><b id="lag-total">{{lagTotal}}</b><span>messages not yet processed (consumer lag)</span></div>{{/lagKnown}}
    </div>
    <h2>Events by source and system</h2>
    <p class="sub">Hour buckets: "last hour" counts from {{hourSince}}, "last day" from {{daySince}} (the current hour included).</p>
    <div class="card" style="padding:0;overflow-x:auto"><table id="windows">
      <tr><th rowspan="2">Source</th><th rowspan="2">System</th><th colspan="5">Last hour</th><th colspan="5">Last day</th></tr>
      <tr><th>Applied</th><th>Duplicate</th><th>Review</th><th>Dead-lettered</th><th>Failure ratio</th><th>Applied</th><th>Duplicate</th><th>Review</th><th>Dead-lettered</th><th>Failure ratio</th></tr>
      {{#windows}}<tr><td class="field">{{source}}</td><td>{{system}}</td>
        {{#hour}}<td>{{applied}}</td><td>{{duplicate}}</td><td>{{review}}</td><td>{{deadLettered}}</td><td><span class="badge {{ratioClass}}">{{ratio}}</span></td>{{/hour}}
        {{#day}}<td>{{applied}}</td><td>{{duplicate}}</td><td>{{review}}</td><td>{{deadLettered}}</td><td><span class="badge {{ratioClass}}">{{ratio}}</span></td>{{/day}}</tr>{{/windows}}
      {{^windows}}<tr><td colspan="12" class="empty">No events in the last day.</td></tr>{{/windows}}
    </table></div>
    <h2>Consumer lag</h2>
    <div class="card" style="padding:0">{{#hasLag}}<table id="lag"><tr><th>Topic</th><th>Partition</th><th>Lag (messages)</th></tr>
      {{#lag}}<tr><td class="mono">{{topic}}</td><td>{{partition}}</td><td><span class="badge {{lagClass}}">{{lag}}</span></td></tr>{{/lag}}</table>{{/hasLag}}
      {{^hasLag}}<div class="empty">{{#lagKnown}}No partitions assigned to this process right now.{{/lagKnown}}{{^lagKnown}}Not known here (no consumer in this process).{{/lagKnown}}</div>{{/hasLag}}</div>
    <h2>All time, by source</h2>
    <div class="card" style="padding:0"><table id="sources"><tr><th>Source</th><th>Applied</th><th>Duplicate</th><th>Review</th><th>Dead-lettered</th><th>Failure ratio</th><th>Last applied</th></tr>
      {{#sources}}<tr><td class="field">{{name}}</td><td>{{applied}}</td><td>{{duplicate}}</td><td>{{review}}</td><td>{{deadLettered}}</td>
        <td><span class="badge {{ratioClass}}">{{ratio}}</span></td><td>{{lastApplied}}</td></tr>{{/sources}}
      {{^sources}}<tr><td colspan="7" class="empty">No events yet.</td></tr>{{/sources}}
    </table></div>
    <h2>Dead letters by class</h2>
    <div class="card" style="padding:0">{{#hasDLQ}}<table id="dlq"><tr><th>Class</th><th>Count</th><th>Newest</th><th></th></tr>
      {{#dlq}}<tr><td class="mono">{{errorClass}}</td><td>{{count}}</td><td>{{newest}}</td><td><a class="open" href="{{link}}">Letters →</a></td></tr>{{/dlq}}</table>{{/hasDLQ}}
      {{^hasDLQ}}<div class="empty">No dead letters.</div>{{/hasDLQ}}</div>
    <h2>Alarms</h2>
    <div class="card" style="padding:0">{{#hasAlarms}}<table><tr><th>When</th><th>Kind</th><th>Where</th><th>Detail</th></tr>
      {{#alarms}}<tr><td>{{at}}</td><td><span class="badge bad">{{kind}}</span></td><td class="mono">{{where}}</td><td>{{detail}}</td></tr>{{/alarms}}</table>{{/hasAlarms}}
      {{^hasAlarms}}<div class="empty">No alarms.</div>{{/hasAlarms}}</div>
    {{> footer}}
    """#

    static let deadLetters = #"""
    {{> header}}
    <p><a href="/console/health">← Health</a></p>
    <h1>Dead letters: <span class="mono">{{errorClass}}</span></h1>
    <p class="sub">Newest first, from <span class="mono">{{dlqTopic}}</span>. {{scanNote}}</p>
    {{#unavailable}}<div class="card muted" id="unavailable">{{unavailable}}</div>{{/unavailable}}
    {{^unavailable}}
    <div class="card" style="padding:0">{{#hasLetters}}<table id="letters"><tr><th>Position</th><th>Failed</th><th>Stage</th><th>Reason</th><th>Came from</th><th>Replays</th><th></th></tr>
      {{#letters}}<tr><td class="mono">{{position}}</td><td title="{{failedAt}}">{{age}}</td><td>{{stage}}</td><td>{{message}}</td>
        <td class="mono">{{original}}<span class="prov">{{source}}</span></td><td>{{replays}}</td><td><a class="open" href="{{link}}">Show →</a></td></tr>{{/letters}}</table>{{/hasLetters}}
      {{^hasLetters}}<div class="empty">No letters of this class on the topic (expired, or not yet published).</div>{{/hasLetters}}</div>
    <div class="pager">
      <span>{{#previous}}<a href="{{previous}}">← Newer</a>{{/previous}}</span>
      <span class="muted">Page {{pageNumber}}</span>
      <span>{{#next}}<a href="{{next}}" id="next">Older →</a>{{/next}}</span>
    </div>
    {{/unavailable}}
    {{> footer}}
    """#

    static let deadLetter = #"""
    {{> header}}
    <p><a href="{{classLink}}">← Letters of class {{errorClass}}</a></p>
    <h1>Dead letter <span class="mono">{{dlqTopic}} {{position}}</span></h1>
    <div class="card"><table id="letter">
      <tr><th>Class</th><td class="mono">{{errorClass}} (stage {{stage}})</td></tr>
      <tr><th>Reason</th><td id="reason">{{message}}</td></tr>
      <tr><th>Field</th><td class="mono">{{field}}</td></tr>
      <tr><th>Original</th><td class="mono">{{original}} · source {{source}} · published {{published}}</td></tr>
      <tr><th>Failed at</th><td>{{failedAt}}</td></tr>
      <tr><th>Replays</th><td>{{replays}}</td></tr>
      <tr><th>Key</th><td class="mono">{{key}}</td></tr>
    </table></div>
    <h2>Headers</h2>
    <div class="card" style="padding:0">{{#hasHeaders}}<table id="headers"><tr><th>Name</th><th>Value</th></tr>
      {{#headers}}<tr><td class="mono">{{name}}</td><td class="mono">{{value}}</td></tr>{{/headers}}</table>{{/hasHeaders}}
      {{^hasHeaders}}<div class="empty">No headers.</div>{{/hasHeaders}}</div>
    <h2>Original bytes ({{valueBytes}} bytes)</h2>
    <p class="sub">As text when they are UTF-8, otherwise <span class="mono">base64:</span>; shown escaped, never interpreted.</p>
    <pre class="card mono" id="value" style="white-space:pre-wrap;word-break:break-all">{{value}}</pre>
    {{> footer}}
    """#
}
