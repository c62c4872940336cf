-- Traffic shaping shared by all dispatchers: destination policies, leased connection slots, token buckets, throttle pauses and send counts.

-- A recipient domain ('example.com') or all its subdomains ('*.example.com'), with its limits.
CREATE TABLE mail.destination_policy (
  domain          text PRIMARY KEY CHECK (domain = lower(domain)),
  max_connections int CHECK (max_connections > 0),
  rate_per_minute int CHECK (rate_per_minute > 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A scope is what a limit or a pause applies to: 'account:<id>' or 'domain:<domain or *.pattern>'.
-- One row per SMTP session slot in use; a slot whose lease ran out is free (its holder died).
CREATE TABLE mail.shaping_slot (
  scope            text NOT NULL,
  slot             int NOT NULL CHECK (slot >= 0),
  holder           text NOT NULL,
  lease_expires_at timestamptz NOT NULL,
  acquired_at      timestamptz NOT NULL,
  PRIMARY KEY (scope, slot)
);
CREATE INDEX shaping_slot_holder ON mail.shaping_slot (holder);

-- A token bucket per rate-limited scope: tokens left as of refilled_at.
CREATE TABLE mail.shaping_bucket (
  scope       text PRIMARY KEY,
  tokens      double precision NOT NULL,
  refilled_at timestamptz NOT NULL
);

-- A scope paused after a throttling reply. pause_length doubles while throttling persists.
CREATE TABLE mail.shaping_pause (
  scope         text PRIMARY KEY,
  paused_until  timestamptz NOT NULL,
  pause_length  interval NOT NULL,
  throttled_at  timestamptz NOT NULL,
  at_connect    boolean NOT NULL,   -- refused a new session (greeting, EHLO) rather than a transaction
  reply_code    int,
  enhanced_code text,
  reply_text    text
);

-- SMTP transactions per scope and second, as dispatchers report them; kept for two minutes.
CREATE TABLE mail.shaping_count (
  scope        text NOT NULL,
  second       timestamptz NOT NULL,
  transactions int NOT NULL,
  PRIMARY KEY (scope, second)
);
