//! Jira's wire formats, as deploylink sends them. Only request models live here for now;
//! the HTTP client comes with delivery.

pub mod remote_link;
