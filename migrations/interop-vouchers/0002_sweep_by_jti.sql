-- One index fewer for every voucher record: the retention sweep finds the old records through
-- the primary key instead of `interop_vouchers_issued`. Their `jti`s are UUID v7 (the
-- millisecond first, in hex), so "issued before T" is a range of the key; the sweep still tests
-- `issued_at` (crates/interop/src/store/tokens.rs, `sweep`). Each record now writes three pages
-- to the log instead of four. On PostgreSQL the index stays (no group-commit log to spare).
DROP INDEX interop_vouchers_issued;
