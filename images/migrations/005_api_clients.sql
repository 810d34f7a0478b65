-- Who may submit jobs: API clients, their keys, and the owner of every job submitted through the API.
-- A key is `pk_<id>.<secret>`: the id is looked up, the secret's SHA-256 compared. Only the hash is stored, so
-- a copy of this table lets nobody submit jobs. Keys and clients are revoked, never deleted: jobs name their owner.
CREATE TABLE api_clients (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
    -- The job types the client may submit (and read).
    scopes      text[] NOT NULL
                CHECK (scopes <@ ARRAY['video', 'document', 'inference', 'media', 'code']::text[]),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);

-- Several active keys per client, so a client rotates by taking a new key before the old one is revoked.
CREATE TABLE api_keys (
    -- 96 random bits, hex: not secret (logs and the edge's per-key limit use it), not guessable either.
    id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
    client_id     uuid NOT NULL REFERENCES api_clients (id),
    -- SHA-256 of the 256-bit random secret. A slow hash buys nothing for a secret with that much entropy.
    secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX idx_api_keys_client ON api_keys (client_id);

-- NULL for jobs submitted before authentication existed, and for jobs inserted directly (tools, benchmarks):
-- the API shows a client only rows that name it.
ALTER TABLE container_jobs ADD COLUMN owner_client_id uuid
    CONSTRAINT container_jobs_owner_fk REFERENCES api_clients (id);

-- Idempotency keys become per client: with one key space across clients, reusing another client's key would
-- answer with that client's job id. NULLS NOT DISTINCT keeps ownerless rows unique per type as before.
DROP INDEX idx_jobs_idempotency;
CREATE UNIQUE INDEX idx_jobs_idempotency ON container_jobs (type, owner_client_id, idempotency_key) NULLS NOT DISTINCT
    WHERE idempotency_key IS NOT NULL;
