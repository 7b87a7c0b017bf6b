//! The JSON API (`/v2/...`, and the test identity provider's JSON door), shaped as the real
//! platform's: handlers with their typed requests and answers.

pub mod institutions;
pub mod test_idp;
pub mod token;
pub mod users;
