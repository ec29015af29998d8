"""Orders in bulk for the growth benchmark: PostgreSQL's generate_series, no Python per row.

`seed_orders(conn, start, end)` adds orders with ids start+1..end (and their lines and side
effects) as a shop taking ORDERS_PER_DAY orders a day would have them, the newest (id
`end`) a moment ago: so the dashboard's last 30 days hold the same 30,000 orders whether
the table has 100,000 or a million, and rows are stored in the order they were placed.
Statuses, kinds, names and dedications vary by a hash of the id, the same on every run:
roughly 60% fulfilled, 22% paid, 8% abandoned, 5% refunded in whole or part, and a few
under review, disputed or failed. Donors' addresses are name-based
(dana.weber1234@example.org), 40,000 donors who come back.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

ORDERS_PER_DAY = 1000
DONORS = 40_000
CHUNK = 100_000

FIRST_NAMES = ("Ada", "Bert", "Cleo", "Dana", "Emil", "Fay", "Gus", "Hana", "Ivo", "Jude",
               "Kai", "Lena", "Milo", "Nora", "Otto", "Pia", "Quin", "Rosa", "Sami", "Tove")
LAST_NAMES = ("Abbott", "Baker", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia",
              "Haddad", "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura",
              "Okafor", "Petrov", "Quintero", "Rossi", "Schmidt", "Tanaka", "Underwood",
              "Varga", "Weber", "Xu", "Yilmaz")
DOMAINS = ("example.org", "mail.example.com", "post.example.net", "example.co.uk",
           "inbox.example.de", "example.fr")

# One row per order: its bucket (status), kind and moments, computed once per chunk.
_BASE = """
CREATE TEMP TABLE seed_base ON COMMIT DROP AS
SELECT i,
       CASE WHEN b < 600 THEN 'fulfilled' WHEN b < 820 THEN 'paid'
            WHEN b < 870 THEN 'expired' WHEN b < 900 THEN 'pending'
            WHEN b < 930 THEN 'refunded' WHEN b < 950 THEN 'partially_refunded'
            WHEN b < 960 THEN 'needs_review' WHEN b < 965 THEN 'disputed'
            ELSE 'failed' END AS status,
       CASE WHEN i % 10 < 6 THEN 'package' WHEN i % 10 < 9 THEN 'donation'
            ELSE 'mixed' END AS kind,
       CASE WHEN i % 7 = 0 THEN 10 ELSE 1 END AS packs,
       2500 + (i % 20) * 500 AS gift,
       now() - make_interval(secs => (:newest - i) * 86400.0 / :per_day) AS created,
       (CAST(:first AS text[]))[1 + i % :nfirst] || ' '
         || (CAST(:last AS text[]))[1 + (i / :nfirst) % :nlast] AS name,
       lower((CAST(:first AS text[]))[1 + i % :nfirst]) || '.'
         || lower((CAST(:last AS text[]))[1 + (i / :nfirst) % :nlast]) || (i % :donors)
         || '@' || (CAST(:domains AS text[]))[1 + (i % :donors) % :ndomains] AS email
FROM (SELECT i, ((i::bigint * 2654435761) % 1000) AS b
      FROM generate_series(CAST(:start AS integer), CAST(:end AS integer)) AS i) AS s
"""

_ORDERS = """
INSERT INTO orders (id, number, token, status, kind, email, name, currency, total_cents,
                    packages, cart_fingerprint, checkout_attempt, stripe_session_id,
                    stripe_payment_intent_id, amount_received_cents, refunded_cents,
                    review_reason, status_before_dispute, created_at, updated_at, paid_at,
                    anonymous)
SELECT i, 'CP-' || lpad(i::text, greatest(6, length(i::text)), '0'),
       md5('token' || i) || md5('more' || i), status,
       kind, email, name, 'usd', total, packages, '', 1, 'cs_seed_' || i,
       CASE WHEN paid THEN 'pi_seed_' || i END, CASE WHEN paid THEN total END,
       CASE status WHEN 'refunded' THEN total WHEN 'partially_refunded' THEN total / 2
            ELSE 0 END,
       CASE WHEN status = 'needs_review' THEN 'Stripe reported a different amount' END,
       CASE WHEN status = 'disputed' THEN 'paid' END,
       created, created + interval '2 minutes',
       CASE WHEN paid THEN created + interval '1 minute' END, i % 13 = 0
FROM (SELECT *,
             status NOT IN ('pending', 'expired', 'failed') AS paid,
             CASE kind WHEN 'package' THEN 0 ELSE gift END
               + CASE kind WHEN 'donation' THEN 0 ELSE 5900 * packs END AS total,
             CASE kind WHEN 'donation' THEN 0 ELSE packs END AS packages
      FROM seed_base) AS b
"""

_LINES = """
INSERT INTO order_lines (order_id, kind, bundle_slug, name, unit_price_cents, quantity,
                         packages, note, dedication_type, dedication_name, join_unit)
SELECT i, 'package', CASE packs WHEN 10 THEN 'unit-ten-pack' ELSE 'single-package' END,
       CASE packs WHEN 10 THEN 'A whole unit (ten-pack)' ELSE 'Winter care package' END,
       5900 * packs, 1, packs, CASE WHEN i % 3 = 0 THEN 'Stay warm out there.' ELSE '' END,
       NULL, NULL, false
FROM seed_base WHERE kind <> 'donation'
UNION ALL
SELECT i, 'donation', NULL, 'Gift where it is needed most', gift, 1, 0, '',
       CASE WHEN i % 50 = 0 THEN 'honor' WHEN i % 50 = 25 THEN 'memory' END,
       CASE WHEN i % 25 = 0
            THEN (CAST(:first AS text[]))[1 + (i / 7) % :nfirst] || ' '
                 || (CAST(:last AS text[]))[1 + (i / 3) % :nlast] END,
       false
FROM seed_base WHERE kind <> 'package'
"""

_SIDE_EFFECTS = """
INSERT INTO side_effects (order_id, kind, status, attempts, due_at, done_at, reference,
                          last_error, created_at, updated_at)
SELECT i, kind, CASE WHEN i % 997 = 0 THEN 'failed' ELSE 'done' END, 1, moment,
       CASE WHEN i % 997 = 0 THEN NULL ELSE moment END,
       CASE WHEN i % 997 = 0 THEN NULL ELSE kind || '-' || i END,
       CASE WHEN i % 997 = 0 THEN 'The partner did not answer' END, moment, moment
FROM (SELECT i, created + interval '3 minutes' AS moment, 'receipt' AS kind
      FROM seed_base WHERE status NOT IN ('pending', 'expired', 'failed', 'needs_review')
      UNION ALL
      SELECT i, created + interval '3 minutes', 'packing_order'
      FROM seed_base WHERE kind <> 'donation'
        AND status NOT IN ('pending', 'expired', 'failed', 'needs_review')) AS e
"""


def _params(start: int, end: int, newest: int) -> dict[str, object]:
    return {"start": start, "end": end, "newest": newest, "per_day": ORDERS_PER_DAY,
            "donors": DONORS,
            "first": list(FIRST_NAMES), "nfirst": len(FIRST_NAMES),
            "last": list(LAST_NAMES), "nlast": len(LAST_NAMES),
            "domains": list(DOMAINS), "ndomains": len(DOMAINS)}


def seed_orders(conn: Connection, start: int, end: int) -> None:
    """Orders start+1..end with their lines and side effects, CHUNK orders a transaction.

    `conn` is a PostgreSQL connection; each chunk is committed. The tables' plain indexes
    (not those behind a constraint) are dropped while rows go in and built again after,
    which is several times faster than keeping trigram indexes up to date row by row; the
    sequences move past the new ids and the tables are analysed at the end.
    """
    tables = ("orders", "order_lines", "side_effects")
    indexes = conn.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes AS i "
        "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c "
        "                WHERE c.conname = i.indexname)"), {"tables": list(tables)}).all()
    for name, _ in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    conn.execute(text("SET maintenance_work_mem = '256MB'"))
    conn.commit()
    try:
        for first in range(start + 1, end + 1, CHUNK):
            last = min(first + CHUNK - 1, end)
            params = _params(first, last, end)
            conn.execute(text(_BASE), params)
            conn.execute(text(_ORDERS))
            conn.execute(text(_LINES), params)
            conn.execute(text(_SIDE_EFFECTS))
            conn.commit()
    finally:
        conn.rollback()
        for _, definition in indexes:
            conn.execute(text(definition))
            conn.commit()
    for table in tables:
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
        conn.execute(text(f"ANALYZE {table}"))
    conn.commit()
