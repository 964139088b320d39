-- store 0.2.0 -> 0.3.0: security and reliability. Built by the Makefile from sql/0.3.0/*.sql, one
-- fragment per concern, in file-name order; released update scripts are never edited.
\echo Use "ALTER EXTENSION store UPDATE TO '0.3.0'" to load this file. \quit
