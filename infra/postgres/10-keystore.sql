-- The key store's own database and role (docker-compose.yml mounts this into the PostgreSQL
-- image's /docker-entrypoint-initdb.d, so it runs once, on a new data volume). The event
-- databases' role is the image's superuser here; in production give it no access at all.
CREATE ROLE polku_keys LOGIN PASSWORD 'polku_keys';
CREATE DATABASE polku_keys OWNER polku_keys;
REVOKE CONNECT ON DATABASE polku_keys FROM PUBLIC;
