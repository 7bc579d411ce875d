#!/bin/bash
# ChirpStack v4 needs these PostgreSQL extensions (as in chirpstack-docker's initdb script).
set -e

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname="$POSTGRES_DB" <<-EOSQL
    create extension pg_trgm;
    create extension hstore;
EOSQL
