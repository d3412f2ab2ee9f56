//! Delivering planned requests to Jira (SPEC 7). For now: the retry policy, which decides
//! from each response or connection failure whether to retry, when, or to give up. The
//! HTTP client, concurrency and the spool build on it.

pub mod retry;
