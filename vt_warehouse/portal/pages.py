"""The portal's pages, in Dutch, as Jinja templates with autoescaping; no scripts, no inline styles (the
Content-Security-Policy forbids both), one stylesheet served by the portal itself."""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape
from markupsafe import Markup

CSS = """
body { font-family: sans-serif; margin: 0; color: #222; }
header { background: #1f4e79; color: #fff; padding: 0.6em 1.5em; display: flex; justify-content: space-between; }
header form { margin: 0; } header button { background: none; border: 1px solid #fff; color: #fff; }
main { padding: 1em 1.5em; max-width: 1100px; }
table { border-collapse: collapse; margin: 0.6em 0; } th, td { border: 1px solid #bbb; padding: 4px 8px; }
th { background: #eef2f7; text-align: left; }
.fout { color: #a40000; font-weight: bold; } .goed { color: #146c2e; font-weight: bold; }
label { display: block; margin-top: 0.6em; } input[type=text], input[type=password] { width: 18em; }
code.geheim { font-size: 1.2em; letter-spacing: 0.1em; }
.qr svg { background: #fff; } ul.regels { margin: 0; padding-left: 1.2em; }
"""

BASE = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>{{ titel }} - Veilig Thuis leveringsportaal</title>
<link rel="stylesheet" href="/portal.css"></head><body>
<header><span>Veilig Thuis leveringsportaal{% if sessie %} &middot; {{ sessie.naam }}{% if sessie.account.vt_code %}
 ({{ sessie.account.vt_code }}){% endif %}{% endif %}</span>
{% if sessie %}<form method="post" action="/uitloggen"><input type="hidden" name="csrf" value="{{ sessie.csrf }}">
<button type="submit">Uitloggen</button></form>{% endif %}</header>
<main><h1>{{ titel }}</h1>{% block inhoud %}{% endblock %}</main></body></html>"""

TEMPLATES = {
    "base.html": BASE,
    "login.html": """{% extends "base.html" %}{% block inhoud %}
{% if melding %}<p class="fout">{{ melding }}</p>{% endif %}
<form method="post" action="/inloggen"><input type="hidden" name="csrf" value="{{ csrf }}">
<label>Accountnaam <input type="text" name="naam" autocomplete="username" required></label>
<label>Wachtwoord <input type="password" name="wachtwoord" autocomplete="current-password" required></label>
<p><button type="submit">Inloggen</button></p></form>{% endblock %}""",
    "factor.html": """{% extends "base.html" %}{% block inhoud %}
{% if geheim %}<p>Stel eerst uw tweede factor in: scan deze QR-code met uw authenticator-app (bijvoorbeeld
FreeOTP of Google Authenticator).</p>
<div class="qr">{{ qr }}</div>
<p>Lukt scannen niet? Voeg in de app handmatig een account toe met deze sleutel (tijdgebaseerd, 6 cijfers,
30 seconden):</p>
<p><code class="geheim">{{ geheim }}</code></p><p>Of als adres: <code>{{ uri }}</code></p>{% endif %}
{% if melding %}<p class="fout">{{ melding }}</p>{% endif %}
<form method="post" action="/tweede-factor"><input type="hidden" name="csrf" value="{{ sessie.csrf }}">
<label>Code uit uw app <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required></label>
<p><button type="submit">Bevestigen</button></p></form>{% endblock %}""",
    "leveringen.html": """{% extends "base.html" %}{% block inhoud %}
{% if uitslag %}<div><p class="{{ 'goed' if uitslag.accepted else 'fout' }}">{{ uitslag.message }}</p>
{% if uitslag.violations %}<table><tr><th>Bestandsregel</th><th>Wat</th><th>Regels in het bestand</th></tr>
{% for v in uitslag.violations %}<tr><td>{{ v.rule }}</td><td>{{ regels[v.rule] }}{% if uitslag.details.get(v.rule) %}: {{ uitslag.details[v.rule] }}{% endif %}</td>
<td>{% if uitslag.reasons.get(v.rule) %}<ul class="regels">{% for n, reden in uitslag.reasons[v.rule] %}
<li>regel {{ n }}: {{ reden }}</li>{% endfor %}</ul>{% set getoond = uitslag.reasons[v.rule] | length %}
{% else %}{{ v.lines[:20] | join(', ') }}{% set getoond = v.lines[:20] | length %}{% endif %}
{% if [v.count, v.lines | length] | max > getoond %}... ({{ [v.count, v.lines | length] | max }} regels in totaal){% endif %}</td></tr>
{% endfor %}</table>{% endif %}</div>{% endif %}
<h2>Levering aanbieden</h2>
<p>Kies het bestand van uw levering; de naam van het bestand doet er niet toe: het portaal noemt het naar het
VL-record (bijvoorbeeld {{ sessie.account.vt_code }}_2020H1_001.txt). De <a href="/bestandsdefinitie">bestandsdefinitie</a>
beschrijft elk veld met zijn posities en codes.</p>
<form method="post" action="/aanbieden" enctype="multipart/form-data"><input type="hidden" name="csrf" value="{{ sessie.csrf }}">
<label>Bestand (ten hoogste {{ limiet_mb }} MB) <input type="file" name="bestand" required></label>
<p><button type="submit">Aanbieden</button></p></form>
<h2>Mijn leveringen</h2>
{% if verwerking %}<p>Een ontvangen levering wordt binnen enkele minuten geladen en gecontroleerd; ververs deze pagina
om het oordeel en de rapporten te zien.</p>{% else %}<p>Een ontvangen levering wordt bij de volgende verwerking door
de beheerders geladen en gecontroleerd.</p>{% endif %}
{% if not leveringen %}<p>Nog geen leveringen.</p>{% else %}<table>
<tr><th>Halfjaar</th><th>Levering</th><th>Status</th><th>Oordeel</th><th>Rapporten</th></tr>
{% for l in leveringen %}<tr><td>{{ l.periode }}</td><td>{{ l.levering_id }}</td><td>{{ l.status_tekst }}
{% if l.reden %}<br><small>{{ l.reden }}</small>{% endif %}</td>
<td>{% if l.goedgekeurd is none %}-{% elif l.goedgekeurd %}goedgekeurd{% else %}afgekeurd{% endif %}</td>
<td>{% for r in l.rapporten %}<a href="/rapport/{{ l.levering_id }}/{{ r }}">{{ r }}</a> {% endfor %}</td></tr>
{% endfor %}</table>{% endif %}{% endblock %}""",
    "beheer.html": """{% extends "base.html" %}{% block inhoud %}
<h2>Leveringen per organisatie en halfjaar</h2>
<table><tr><th>Organisatie</th>{% for p in perioden %}<th>{{ p }}</th>{% endfor %}</tr>
{% for vt in organisaties %}<tr><td>{{ vt }}</td>{% for p in perioden %}<td>
{% for l in overzicht.get((vt, p), []) %}{{ '%03d' % l.nummer }}: {{ l.status_tekst }}{% if l.goedgekeurd is not none %},
{{ 'goedgekeurd' if l.goedgekeurd else 'afgekeurd' }}{% endif %}{% if l.nummer > 1 %} (correctie){% endif %}<br>
{% endfor %}</td>{% endfor %}</tr>{% endfor %}</table>
<h2>Releasekalender</h2><table><tr><th>Release</th><th>Status</th><th>Peildatum</th><th>Vastgesteld</th>
<th>Gepubliceerd</th></tr>{% for r in kalender %}<tr><td>{{ r.release }}</td><td>{{ r.status }}</td>
<td>{{ r.peildatum }}</td><td>{{ 'ja' if r.vastgesteld else 'nee' }}</td><td>{{ 'ja' if r.gepubliceerd else 'nee' }}</td>
</tr>{% endfor %}</table>{% endblock %}""",
    "fout.html": """{% extends "base.html" %}{% block inhoud %}<p class="fout">{{ melding }}</p>
<p><a href="/">Terug</a></p>{% endblock %}""",
}

ENV = Environment(loader=DictLoader(TEMPLATES), autoescape=select_autoescape(default=True))


def qr_svg(text: str) -> Markup:
    """`text` as a QR code in inline SVG (no script, no inline style: the page's policy allows it as it is)."""
    import segno

    return Markup(
        segno.make(text, error="m", micro=False).svg_inline(
            scale=4, border=4, light="#fff", title="QR-code van uw tweede factor"
        )
    )


def render(name: str, **context) -> str:
    from vt_warehouse.portal.upload import REGELS

    return ENV.get_template(name).render(regels=REGELS, **context)
