//! Tokens and accounts: token verification, and the account discovery wrangler calls when no
//! account id is given (`/accounts`, `/memberships`, `/user`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::http::envelope;
use crate::state::AppState;

pub(super) async fn verify_user_token(State(state): State<AppState>) -> Response {
    token_verified(&state)
}

pub(super) async fn verify_account_token(State(state): State<AppState>) -> Response {
    token_verified(&state)
}

fn token_verified(state: &AppState) -> Response {
    Json(json!({
        "success": true,
        "errors": [],
        "messages": [{"code": 10000, "message": "This API Token is valid and active", "type": null}],
        "result": {"id": state.identity.cloudflare_token_id, "status": "active"},
    }))
    .into_response()
}

fn account_json(state: &AppState) -> Value {
    json!({
        "id": state.identity.account_id,
        "name": "Switchyard Sandbox",
        "type": "standard",
        "settings": {"enforce_twofactor": false},
        "created_on": "2025-01-01T00:00:00.000Z",
    })
}

fn single_page(result: Value) -> Response {
    Json(json!({
        "success": true, "errors": [], "messages": [], "result": result,
        "result_info": {"page": 1, "per_page": 20, "count": 1, "total_count": 1, "total_pages": 1},
    }))
    .into_response()
}

pub(super) async fn list_accounts(State(state): State<AppState>) -> Response {
    single_page(json!([account_json(&state)]))
}

/// The user the token belongs to (what `wrangler whoami` shows).
pub(super) async fn get_user(State(state): State<AppState>) -> Response {
    envelope(json!({
        "id": state.identity.user_tag,
        "email": "operator@sandbox.local",
        "first_name": "Sandbox",
        "last_name": "Operator",
        "suspended": false,
        "two_factor_authentication_enabled": false,
    }))
}

pub(super) async fn list_memberships(State(state): State<AppState>) -> Response {
    single_page(json!([{
        "id": state.identity.cloudflare_token_id,
        "status": "accepted",
        "account": account_json(&state),
        "roles": ["Administrator"],
    }]))
}
