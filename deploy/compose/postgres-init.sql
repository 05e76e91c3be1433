-- docker-compose.yml's PostgreSQL: one database and one login role per service, as `make run`
-- provisions them. Each role owns its database and may connect to that one only.
-- The password is the development one; the services refuse it with ENVIRONMENT=production.

CREATE ROLE order_svc LOGIN PASSWORD 'xborder-dev';
CREATE DATABASE order_svc OWNER order_svc;
REVOKE CONNECT, TEMPORARY ON DATABASE order_svc FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE order_svc TO order_svc;

CREATE ROLE payment_svc LOGIN PASSWORD 'xborder-dev';
CREATE DATABASE payment_svc OWNER payment_svc;
REVOKE CONNECT, TEMPORARY ON DATABASE payment_svc FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE payment_svc TO payment_svc;

CREATE ROLE shipping_svc LOGIN PASSWORD 'xborder-dev';
CREATE DATABASE shipping_svc OWNER shipping_svc;
REVOKE CONNECT, TEMPORARY ON DATABASE shipping_svc FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE shipping_svc TO shipping_svc;

CREATE ROLE customs_svc LOGIN PASSWORD 'xborder-dev';
CREATE DATABASE customs_svc OWNER customs_svc;
REVOKE CONNECT, TEMPORARY ON DATABASE customs_svc FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE customs_svc TO customs_svc;
