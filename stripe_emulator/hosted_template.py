"""The Jinja template of the hosted checkout page (inline so the package needs no data files)."""

PAGE = """\
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }} · Stripe emulator checkout</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 0; background: #f6f8fa; color: #1a1f36; }
    main { max-width: 32rem; margin: 0 auto; padding: 1rem; }
    .card { background: #fff; border-radius: 8px; padding: 1rem; margin-bottom: 1rem;
            box-shadow: 0 1px 3px rgba(0,0,0,.12); }
    .badge { display: inline-block; background: #ffde92; padding: .1rem .5rem; border-radius: 4px;
             font-size: .8rem; }
    table { width: 100%; border-collapse: collapse; }
    td { padding: .4rem 0; vertical-align: top; }
    td.amount { text-align: right; white-space: nowrap; }
    tr.total td { border-top: 1px solid #ddd; font-weight: 600; }
    label { display: block; margin: .6rem 0 .2rem; font-size: .9rem; }
    input, select { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem;
                    border: 1px solid #ccc; border-radius: 6px; }
    button { width: 100%; padding: .8rem; margin-top: .6rem; font-size: 1rem; border: 0;
             border-radius: 6px; cursor: pointer; }
    .primary { background: #635bff; color: #fff; }
    .secondary { background: #e3e8ee; color: #1a1f36; }
    .error { color: #b00020; font-weight: 600; }
    .muted { color: #697386; font-size: .9rem; }
  </style>
</head>
<body>
<main>
  <p><span class="badge">TEST MODE · Stripe emulator</span></p>
  {% if cancel_url and state == "open" %}
  <p><a href="{{ cancel_url }}" data-testid="emulator-cancel">&larr; Back</a></p>
  {% endif %}
  <h1>{{ title }}</h1>
  {% if message %}
  <div class="card"><p data-testid="emulator-status">{{ message }}</p></div>
  {% if settling %}
  <form method="post" class="card">
    <button class="primary" type="submit" name="action" value="settle"
            data-testid="emulator-settle">Settle the bank transfer now</button>
    <button class="secondary" type="submit" name="action" value="settle_fail"
            data-testid="emulator-settle-fail">Make the bank transfer fail</button>
  </form>
  {% endif %}
  {% else %}
  <div class="card">
    <table>
      {% for line in lines %}
      <tr data-testid="emulator-line-item">
        <td>{{ line.name }} <span class="muted">&times; {{ line.quantity }}</span>
          {% if line.description %}
          <br><span class="muted">{{ line.description }}</span>
          {% endif %}</td>
        <td class="amount">{{ line.amount }}
          {% if interval %}<span class="muted">{{ interval }}</span>{% endif %}</td>
      </tr>
      {% endfor %}
      <tr class="total">
        <td>Total{% if interval %} due today{% endif %}</td>
        <td class="amount"><span data-testid="emulator-total">{{ total }}</span>
          {% if interval %}<span class="muted">{{ interval }}</span>{% endif %}</td>
      </tr>
    </table>
  </div>
  {% if error %}
  <p class="error" data-testid="emulator-error" role="alert">{{ error }}</p>
  {% endif %}
  <form method="post" class="card">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" value="{{ email }}"
           data-testid="emulator-email" autocomplete="email">
    <label for="name">Name on card</label>
    <input id="name" name="name" type="text" value="{{ name }}"
           data-testid="emulator-name" autocomplete="name">
    {% if countries %}
    <label for="line1">Shipping address</label>
    <input id="line1" name="line1" value="{{ form.line1 }}" placeholder="Street and number"
           data-testid="emulator-line1">
    <label for="city">City</label>
    <input id="city" name="city" value="{{ form.city }}" data-testid="emulator-city">
    <label for="postal_code">Postal code</label>
    <input id="postal_code" name="postal_code" value="{{ form.postal_code }}"
           data-testid="emulator-postal-code">
    <label for="country">Country</label>
    <select id="country" name="country" data-testid="emulator-country">
      {% for c in countries %}
      <option value="{{ c }}" {% if c == form.country %}selected{% endif %}>{{ c }}</option>
      {% endfor %}
    </select>
    {% endif %}
    <p class="muted">Card 4242 4242 4242 4242 (emulated, no real card is charged).</p>
    <button class="primary" type="submit" name="action" value="pay"
            data-testid="emulator-pay">{{ pay_label }}</button>
    {% if not interval %}
    <button class="secondary" type="submit" name="action" value="delayed"
            data-testid="emulator-pay-delayed">Pay by bank transfer (confirms later)</button>
    {% endif %}
    <button class="secondary" type="submit" name="action" value="decline"
            data-testid="emulator-decline">Use a card that will be declined</button>
  </form>
  {% endif %}
</main>
</body>
</html>
"""
