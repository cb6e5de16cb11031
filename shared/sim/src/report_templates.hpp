// The mustache templates of report.md and report.html. Views are built in render.cpp (labels
// under `l.`, SVG geometry already computed); report.html is self-contained: inline CSS and SVG,
// no script, no external asset.
#pragma once

namespace sonae::sim::templates {

inline constexpr const char* kMarkdown = R"MD(# {{l.report}}: {{title}}

- {{l.scenario}}: `{{scenario}}`
- {{l.start}}: {{start}}
- {{l.score}}: **{{score}}** / 100
- {{l.tenants}}: {{tenants_text}}
{{#description}}

{{description}}
{{/description}}

## {{l.incidents}}

| {{l.incident}} | {{l.tenant}} | {{l.playbook}} | {{l.title}} | {{l.severity}} | {{l.status}} | {{l.opened}} | {{l.tta}} | {{l.resolved}} |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{{#incidents}}
| {{id}} | {{tenant}} | {{playbook}} | {{title}} | {{severity}} | {{status}} | {{opened}} | {{tta}} | {{resolved}} |
{{/incidents}}

## {{l.services}}

| {{l.tenant}} | {{l.service}} | {{l.rto}} | {{l.deadline}} | {{l.recovered}} | {{l.recovery}} | {{l.result}} |
| --- | --- | --- | --- | --- | --- | --- |
{{#services}}
| {{tenant}} | {{name}} (`{{id}}`) | {{rto}} | {{deadline}} | {{recovered}} | {{recovery}} | {{result}} |
{{/services}}

## {{l.steps}}

| {{l.incident}} | {{l.step}} | {{l.owner}} | {{l.planned}} | {{l.actual}} | {{l.due}} | {{l.done}} | {{l.status}} |
| --- | --- | --- | --- | --- | --- | --- | --- |
{{#steps}}
| {{incident}} | {{title}} (`{{id}}`) | {{owner}} | {{planned}} | {{actual}} | {{due}} | {{done}} | {{state}} |
{{/steps}}

## {{l.escalations}}

{{^escalations}}
{{l.none}}
{{/escalations}}
{{#has_escalations}}
| {{l.at}} | {{l.incident}} | {{l.escalation}} |
| --- | --- | --- |
{{/has_escalations}}
{{#escalations}}
| {{at}} | {{incident}} | {{key}} |
{{/escalations}}

## {{l.expectations}}

| {{l.expectation}} | {{l.kind}} | {{l.result}} | {{l.points}} |
| --- | --- | --- | --- |
{{#expectations}}
| {{id}} | {{kind}} {{subject}} | {{result}} | {{score}} / {{max_score}} |
{{/expectations}}

## {{l.improvements}}

{{^improvements}}
{{l.none}}
{{/improvements}}
{{#has_improvements}}
| # | {{l.finding}} | {{l.owner}} | {{l.due_date}} |
| --- | --- | --- | --- |
{{/has_improvements}}
{{#improvements}}
| {{n}} | {{finding}} | {{owner_name}} (`{{owner}}`) | {{due}} |
{{/improvements}}
)MD";

inline constexpr const char* kHtml = R"HTML(<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{l.report}}: {{title}}</title>
<style>
body{font-family:"IPAGothic","Noto Sans CJK JP","Hiragino Sans",Meiryo,system-ui,sans-serif;margin:2rem;color:#1b1b1b;line-height:1.5}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:2px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef}.num{text-align:right}.ok{color:#1a6b1a}.bad{color:#a40000;font-weight:bold}
.score{font-size:2rem;font-weight:bold}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}
svg text{font-size:12px;font-family:inherit}svg .head{font-weight:bold}svg .bar{fill:#4a78c2}svg .late .bar{fill:url(#late-hatch);stroke:#a40000;stroke-width:1.5}
svg .open .bar{fill:#fff;stroke:#4a78c2;stroke-dasharray:4 2}svg .rto{stroke:#a40000;stroke-width:2;stroke-dasharray:6 3}svg .rto-label{fill:#a40000}
svg .grid{stroke:#ddd}svg .tick{fill:#555;font-size:11px}svg .mark{fill:#a40000;font-weight:bold}
.legend span{margin-right:1.5rem}
</style>
</head>
<body>
<h1>{{l.report}}: {{title}}</h1>
<dl>
<dt>{{l.scenario}}</dt><dd><code>{{scenario}}</code></dd>
<dt>{{l.start}}</dt><dd>{{start}}</dd>
<dt>{{l.tenants}}</dt><dd>{{tenants_text}}</dd>
<dt>{{l.score}}</dt><dd><span class="score" id="score">{{score}}</span> / 100</dd>
</dl>
{{#description}}<p>{{description}}</p>{{/description}}

<h2>{{l.timeline}}</h2>
<p class="legend"><span>■ {{l.legend_step}}</span><span>▨ ⚠ {{l.legend_late}}</span><span>┆ {{l.legend_rto}}</span><span>» {{l.legend_clipped}}</span></p>
<svg xmlns="http://www.w3.org/2000/svg" id="timeline" role="img" aria-label="{{l.timeline}}" width="{{svg.width}}" height="{{svg.height}}" viewBox="0 0 {{svg.width}} {{svg.height}}">
<defs><pattern id="late-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4c7c3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#a40000" stroke-width="2"/></pattern></defs>
{{#svg.ticks}}<line class="grid" x1="{{x}}" y1="{{svg.top}}" x2="{{x}}" y2="{{svg.bottom}}"/><text class="tick" x="{{x}}" y="{{svg.tick_y}}" text-anchor="middle">{{label}}</text>
{{/svg.ticks}}
{{#svg.rows}}{{#head}}<text class="head" x="4" y="{{text_y}}">{{label}}</text>
{{/head}}{{^head}}<g class="step{{#late}} late{{/late}}{{#open}} open{{/open}}" data-step="{{id}}" data-incident="{{incident}}"><title>{{tooltip}}</title><text x="12" y="{{text_y}}">{{label}}</text><rect class="bar" x="{{x}}" y="{{y}}" width="{{w}}" height="{{h}}"/>{{#late}}<text class="mark" x="{{mark_x}}" y="{{text_y}}">⚠ {{l.late}}</text>{{/late}}{{#clipped}}<text class="mark" x="{{clip_x}}" y="{{text_y}}">»</text>{{/clipped}}</g>
{{/head}}{{/svg.rows}}
{{#svg.lines}}<g class="rto-line"><line class="rto" data-service="{{id}}" data-tenant="{{tenant}}" x1="{{x}}" y1="{{y1}}" x2="{{x}}" y2="{{y2}}"><title>{{tooltip}}</title></line><text class="rto-label" x="{{label_x}}" y="{{label_y}}" text-anchor="{{anchor}}">{{label}}</text></g>
{{/svg.lines}}
</svg>

<h2>{{l.incidents}}</h2>
<table id="incidents"><tr><th>{{l.incident}}</th><th>{{l.tenant}}</th><th>{{l.playbook}}</th><th>{{l.title}}</th><th>{{l.severity}}</th><th>{{l.status}}</th><th>{{l.opened}}</th><th>{{l.tta}}</th><th>{{l.resolved}}</th></tr>
{{#incidents}}<tr data-tenant="{{tenant}}"><td>{{id}}</td><td>{{tenant}}</td><td>{{playbook_title}} (<code>{{playbook}}</code>)</td><td>{{title}}</td><td>{{severity}}</td><td>{{status}}</td><td>{{opened}}</td><td>{{tta}}</td><td>{{resolved}}</td></tr>
{{/incidents}}</table>

<h2>{{l.services}}</h2>
<table id="services"><tr><th>{{l.tenant}}</th><th>{{l.service}}</th><th>{{l.rto}}</th><th>{{l.deadline}}</th><th>{{l.recovered}}</th><th>{{l.recovery}}</th><th>{{l.result}}</th></tr>
{{#services}}<tr><td>{{tenant}}</td><td>{{name}} (<code>{{id}}</code>)</td><td>{{rto}}</td><td>{{deadline}}</td><td>{{recovered}}</td><td>{{recovery}}</td><td class="{{#met}}ok{{/met}}{{^met}}bad{{/met}}">{{result}}</td></tr>
{{/services}}</table>

<h2>{{l.steps}}</h2>
<table id="steps"><tr><th>{{l.incident}}</th><th>{{l.step}}</th><th>{{l.owner}}</th><th>{{l.planned}}</th><th>{{l.actual}}</th><th>{{l.due}}</th><th>{{l.done}}</th><th>{{l.status}}</th></tr>
{{#steps}}<tr><td>{{incident}}</td><td>{{title}} (<code>{{id}}</code>)</td><td>{{owner}}</td><td>{{planned}}</td><td>{{actual}}</td><td>{{due}}</td><td>{{done}}</td><td{{#late}} class="bad"{{/late}}>{{state}}</td></tr>
{{/steps}}</table>

<h2>{{l.escalations}}</h2>
{{^escalations}}<p>{{l.none}}</p>{{/escalations}}
{{#has_escalations}}<table id="escalations"><tr><th>{{l.at}}</th><th>{{l.incident}}</th><th>{{l.escalation}}</th></tr>
{{#escalations}}<tr><td>{{at}}</td><td>{{incident}}</td><td><code>{{key}}</code></td></tr>
{{/escalations}}</table>{{/has_escalations}}

<h2>{{l.expectations}}</h2>
<table id="expectations"><tr><th>{{l.expectation}}</th><th>{{l.kind}}</th><th>{{l.result}}</th><th>{{l.points}}</th></tr>
{{#expectations}}<tr><td><code>{{id}}</code></td><td>{{kind}} {{subject}}</td><td class="{{#met}}ok{{/met}}{{^met}}bad{{/met}}">{{result}}</td><td class="num">{{score}} / {{max_score}}</td></tr>
{{/expectations}}</table>

<h2>{{l.improvements}}</h2>
{{^improvements}}<p>{{l.none}}</p>{{/improvements}}
{{#has_improvements}}<table id="improvements"><tr><th>#</th><th>{{l.finding}}</th><th>{{l.owner}}</th><th>{{l.due_date}}</th></tr>
{{#improvements}}<tr><td class="num">{{n}}</td><td>{{finding}}</td><td>{{owner_name}} (<code>{{owner}}</code>)</td><td>{{due}}</td></tr>
{{/improvements}}</table>{{/has_improvements}}
</body>
</html>
)HTML";

}  // namespace sonae::sim::templates
