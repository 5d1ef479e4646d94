//! Passkeys (WebAuthn, checked by webauthn-rs): registering one on the security
//! page, signing in with one alone (a discoverable credential: no address typed),
//! using one as sign-in's second step, proving oneself again with one, and listing,
//! renaming and removing them.
//!
//! Each ceremony has two requests; between them the server's half (the challenge and
//! what it allows) waits in `webauthn_ceremonies` for 5 minutes and is taken once, so
//! any server process can answer the second request and no answer can be replayed.
//! User verification (a PIN or a biometric on the device) is required every time,
//! which makes a passkey a second factor in itself: signing in with one asks for
//! nothing more.

use super::{Notice, SecondFactors};
use crate::error::{AppError, UniqueViolation};
use crate::model::{
    AuditAction, PasskeyAdded, PasskeyChallenge, PasskeyInfo, Reauthenticated, SecondFactorMethod, User,
};
use crate::ssr::caller::{Caller, ClientMeta};
use crate::ssr::entity::passkeys::{self, Entity as PasskeyRows};
use crate::ssr::entity::webauthn_ceremonies::{self, Entity as Ceremonies};
use crate::ssr::mail::outbox;
use crate::ssr::sessions::{NewSession, Persistence, SessionToken};
use crate::validation::{PasskeyNameInput, PasskeyResponseInput, passkey_name};
use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential,
};

/// How long the browser has to answer a ceremony.
pub const CEREMONY_TTL: Duration = Duration::minutes(5);

/// What a ceremony is for; the second request must be for the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ceremony {
    Register,
    SignIn,
    SecondFactor,
    Reauthenticate,
}

impl Ceremony {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::SignIn => "sign_in",
            Self::SecondFactor => "second_factor",
            Self::Reauthenticate => "reauthenticate",
        }
    }
}

fn info(row: &passkeys::Model) -> PasskeyInfo {
    PasskeyInfo {
        id: row.id,
        name: row.name.clone(),
        created_at: row.created_at,
        last_used_at: row.last_used_at,
    }
}

/// The authenticator's answer, as webauthn-rs reads it; a malformed one is refused
/// like a wrong one.
fn parse_answer<T: DeserializeOwned>(input: &PasskeyResponseInput) -> Result<T, AppError> {
    serde_json::from_value(input.credential.clone()).map_err(|e| {
        tracing::info!(error = %e, "passkey answer does not parse");
        AppError::PasskeyRefused
    })
}

fn refused(step: &str, err: impl std::fmt::Display) -> AppError {
    tracing::info!(error = %err, step, "passkey refused");
    AppError::PasskeyRefused
}

fn challenge(id: Uuid, options: &impl Serialize) -> Result<PasskeyChallenge, AppError> {
    Ok(PasskeyChallenge {
        challenge_id: id,
        options: serde_json::to_value(options).map_err(AppError::internal)?,
    })
}

impl SecondFactors {
    /// Whether passkeys can be used here (`ROSTER_PUBLIC_URL` names a domain).
    pub fn passkeys_available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn relying_party(&self) -> Result<&std::sync::Arc<webauthn_rs::Webauthn>, AppError> {
        self.webauthn.as_ref().ok_or_else(|| {
            AppError::conflict(
                "Passkeys are not available here: the site must be reached by a domain name (ROSTER_PUBLIC_URL), not an IP address.",
            )
        })
    }

    async fn passkey_rows<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<Vec<passkeys::Model>, AppError> {
        Ok(PasskeyRows::find()
            .filter(passkeys::Column::UserId.eq(user_id))
            .order_by_asc(passkeys::Column::CreatedAt)
            .all(db)
            .await?)
    }

    pub(super) async fn passkey_count<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u64, AppError> {
        Ok(PasskeyRows::find()
            .filter(passkeys::Column::UserId.eq(user_id))
            .count(db)
            .await?)
    }

    fn credential(row: &passkeys::Model) -> Result<Passkey, AppError> {
        serde_json::from_str(&row.credential).map_err(AppError::internal)
    }

    async fn save_ceremony(
        &self,
        user_id: Option<Uuid>,
        purpose: Ceremony,
        state: &impl Serialize,
    ) -> Result<Uuid, AppError> {
        let id = Uuid::now_v7();
        let now = Utc::now();
        let row = webauthn_ceremonies::ActiveModel {
            id: Set(id),
            user_id: Set(user_id),
            purpose: Set(purpose.as_str().to_owned()),
            state: Set(serde_json::to_string(state).map_err(AppError::internal)?),
            created_at: Set(now),
            expires_at: Set(now + CEREMONY_TTL),
        };
        Ceremonies::insert(row).exec_without_returning(self.db()).await?;
        Ok(id)
    }

    /// The server's half of a ceremony, taken once: unknown, expired, for another
    /// purpose or account, or already taken → refused.
    async fn take_ceremony<T: DeserializeOwned>(
        &self,
        id: &str,
        purpose: Ceremony,
        user_id: Option<Uuid>,
    ) -> Result<T, AppError> {
        let id = Uuid::try_parse(id).map_err(|_| AppError::PasskeyRefused)?;
        let mut find = Ceremonies::find_by_id(id)
            .filter(webauthn_ceremonies::Column::Purpose.eq(purpose.as_str()))
            .filter(webauthn_ceremonies::Column::ExpiresAt.gt(Utc::now()));
        find = match user_id {
            Some(user) => find.filter(webauthn_ceremonies::Column::UserId.eq(user)),
            None => find.filter(webauthn_ceremonies::Column::UserId.is_null()),
        };
        let row = find.one(self.db()).await?.ok_or(AppError::PasskeyRefused)?;
        let taken = Ceremonies::delete_by_id(row.id).exec(self.db()).await?.rows_affected;
        if taken != 1 {
            return Err(AppError::PasskeyRefused);
        }
        serde_json::from_str(&row.state).map_err(AppError::internal)
    }

    /// The caller's passkeys.
    pub async fn list_passkeys(&self, caller: &Caller) -> Result<Vec<PasskeyInfo>, AppError> {
        let account = self.own_account(caller).await?;
        Ok(Self::passkey_rows(self.db(), account.id)
            .await?
            .iter()
            .map(info)
            .collect())
    }

    /// Starts registering a passkey for the caller (a recent proof needed): the
    /// options for `navigator.credentials.create`, asking for a discoverable
    /// credential (so it can sign in without an address) and user verification.
    pub async fn start_passkey_registration(&self, caller: &Caller) -> Result<PasskeyChallenge, AppError> {
        let account = self.own_account(caller).await?;
        self.reauth.require(caller).await?;
        let existing = Self::passkey_rows(self.db(), account.id).await?;
        let exclude = existing
            .iter()
            .filter_map(|row| Self::credential(row).ok())
            .map(|pk| pk.cred_id().clone())
            .collect::<Vec<_>>();
        let (options, state) = self
            .relying_party()?
            .start_passkey_registration(account.id, &account.email, &account.name, Some(exclude))
            .map_err(AppError::internal)?;
        let id = self.save_ceremony(Some(account.id), Ceremony::Register, &state).await?;
        let mut challenge = challenge(id, &options.public_key)?;
        // A discoverable credential: it names the account itself at sign-in.
        if let Some(selection) = challenge.options.get_mut("authenticatorSelection") {
            selection["residentKey"] = "required".into();
            selection["requireResidentKey"] = true.into();
        }
        Ok(challenge)
    }

    /// Finishes registering: checks the authenticator's answer against the
    /// ceremony and stores the passkey. The account's first second factor also gets
    /// its recovery codes (returned, shown once).
    pub async fn finish_passkey_registration(
        &self,
        caller: &Caller,
        input: &PasskeyResponseInput,
    ) -> Result<PasskeyAdded, AppError> {
        let account = self.own_account(caller).await?;
        let name =
            passkey_name(input.name.as_deref().unwrap_or("Passkey")).map_err(|e| AppError::invalid_field("name", e))?;
        self.reauth.require(caller).await?;
        let state: PasskeyRegistration = self
            .take_ceremony(&input.challenge_id, Ceremony::Register, Some(account.id))
            .await?;
        let answer: RegisterPublicKeyCredential = parse_answer(input)?;
        let passkey = self
            .relying_party()?
            .finish_passkey_registration(&answer, &state)
            .map_err(|e| refused("registration", e))?;
        let now = Utc::now();
        let txn = crate::ssr::db::begin_write(self.db()).await?;
        let had_a_factor =
            Self::confirmed_totp(&txn, account.id).await?.is_some() || Self::passkey_count(&txn, account.id).await? > 0;
        let row = passkeys::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(account.id),
            credential_id: Set(hex::encode(passkey.cred_id())),
            name: Set(name.clone()),
            credential: Set(serde_json::to_string(&passkey).map_err(AppError::internal)?),
            created_at: Set(now),
            last_used_at: Set(None),
        };
        let stored = PasskeyRows::insert(row)
            .exec_with_returning(&txn)
            .await
            .conflict_on_unique(AppError::conflict("This passkey is registered already."))?;
        let recovery_codes = match had_a_factor {
            true => None,
            false => Some(
                super::replace_recovery_codes(&txn, account.id, now)
                    .await?
                    .recovery_codes,
            ),
        };
        outbox::enqueue(&txn, &self.notice(&account, Notice::PasskeyAdded(name.clone()))?).await?;
        txn.commit().await?;
        let who = Some((account.id, account.email.as_str()));
        let detail = Some(format!("passkey \"{name}\""));
        self.deps
            .audit
            .record(
                AuditAction::SecondFactorEnabled,
                Some(account.id),
                who,
                &caller.client,
                detail,
            )
            .await;
        Ok(PasskeyAdded {
            passkey: info(&stored),
            recovery_codes,
        })
    }

    pub async fn rename_passkey(
        &self,
        caller: &Caller,
        id: Uuid,
        input: &PasskeyNameInput,
    ) -> Result<PasskeyInfo, AppError> {
        let account = self.own_account(caller).await?;
        let name = passkey_name(&input.name).map_err(|e| AppError::invalid_field("name", e))?;
        let renamed = PasskeyRows::update_many()
            .col_expr(passkeys::Column::Name, Expr::value(name))
            .filter(passkeys::Column::Id.eq(id))
            .filter(passkeys::Column::UserId.eq(account.id))
            .exec(self.db())
            .await?
            .rows_affected;
        if renamed != 1 {
            return Err(AppError::NotFound);
        }
        let row = PasskeyRows::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(info(&row))
    }

    /// Removes one of the caller's passkeys (a recent proof needed). With the last
    /// second factor gone, the recovery codes go too.
    pub async fn remove_passkey(&self, caller: &Caller, id: Uuid) -> Result<(), AppError> {
        let account = self.own_account(caller).await?;
        self.reauth.require(caller).await?;
        let txn = crate::ssr::db::begin_write(self.db()).await?;
        let Some(row) = PasskeyRows::find_by_id(id)
            .filter(passkeys::Column::UserId.eq(account.id))
            .one(&txn)
            .await?
        else {
            return Err(AppError::NotFound);
        };
        PasskeyRows::delete_by_id(row.id).exec(&txn).await?;
        if Self::confirmed_totp(&txn, account.id).await?.is_none() && Self::passkey_count(&txn, account.id).await? == 0
        {
            super::delete_recovery_codes(&txn, account.id).await?;
        }
        outbox::enqueue(&txn, &self.notice(&account, Notice::PasskeyRemoved(row.name.clone()))?).await?;
        txn.commit().await?;
        let who = Some((account.id, account.email.as_str()));
        let detail = Some(format!("passkey \"{}\"", row.name));
        self.deps
            .audit
            .record(
                AuditAction::SecondFactorDisabled,
                Some(account.id),
                who,
                &caller.client,
                detail,
            )
            .await;
        Ok(())
    }

    /// Checks an assertion against one of the account's passkeys and notes its use
    /// (the signature counter, when the authenticator keeps one, and the time).
    async fn verify_assertion(
        &self,
        user_id: Uuid,
        answer: &PublicKeyCredential,
        check: impl FnOnce(&Passkey) -> Result<webauthn_rs::prelude::AuthenticationResult, AppError>,
    ) -> Result<passkeys::Model, AppError> {
        let row = PasskeyRows::find()
            .filter(passkeys::Column::UserId.eq(user_id))
            .filter(passkeys::Column::CredentialId.eq(hex::encode(answer.get_credential_id())))
            .one(self.db())
            .await?
            .ok_or(AppError::PasskeyRefused)?;
        let mut passkey = Self::credential(&row)?;
        let result = check(&passkey)?;
        let mut update = PasskeyRows::update_many()
            .col_expr(passkeys::Column::LastUsedAt, Expr::value(Utc::now()))
            .filter(passkeys::Column::Id.eq(row.id));
        if passkey.update_credential(&result) == Some(true) {
            let json = serde_json::to_string(&passkey).map_err(AppError::internal)?;
            update = update.col_expr(passkeys::Column::Credential, Expr::value(json));
        }
        update.exec(self.db()).await?;
        Ok(row)
    }

    /// Starts a usernameless sign-in: options for `navigator.credentials.get` with no
    /// credentials listed, so the device offers the passkeys it holds for this site.
    /// Refused while the client's address is over its limit of refused answers.
    pub async fn start_passkey_sign_in(&self, client: &ClientMeta) -> Result<PasskeyChallenge, AppError> {
        let keys = self.deps.throttle.link_keys(client.ip.as_deref());
        self.deps.throttle.check(&keys).await?;
        let (options, state) = self
            .relying_party()?
            .start_discoverable_authentication()
            .map_err(AppError::internal)?;
        let id = self.save_ceremony(None, Ceremony::SignIn, &state).await?;
        challenge(id, &options.public_key)
    }

    /// Signs in with a passkey alone: the credential names the account. A new
    /// session, the one this browser held before ended. Refusals count against the
    /// client's address like failed sign-ins.
    pub async fn finish_passkey_sign_in(
        &self,
        input: &PasskeyResponseInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<(User, NewSession), AppError> {
        let keys = self.deps.throttle.link_keys(client.ip.as_deref());
        self.deps.throttle.check(&keys).await?;
        let result = self.try_passkey_sign_in(input, client, previous).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(err) => err.code(),
        };
        metrics::counter!("roster_passkey_sign_ins_total", "outcome" => outcome).increment(1);
        if matches!(result, Err(AppError::PasskeyRefused)) {
            self.deps.throttle.record_failure(&keys).await?;
        }
        result
    }

    async fn try_passkey_sign_in(
        &self,
        input: &PasskeyResponseInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<(User, NewSession), AppError> {
        let state: DiscoverableAuthentication = self.take_ceremony(&input.challenge_id, Ceremony::SignIn, None).await?;
        let answer: PublicKeyCredential = parse_answer(input)?;
        let (user_id, _) = self
            .relying_party()?
            .identify_discoverable_authentication(&answer)
            .map_err(|e| refused("identify", e))?;
        let (webauthn, answered) = (self.relying_party()?.clone(), &answer);
        let used = self
            .verify_assertion(user_id, &answer, move |passkey| {
                // The one-credential form is `finish_discoverable_authentication_v2`,
                // which takes webauthn-rs' internal credential type; this form takes
                // the passkey as the public API gives it.
                #[allow(deprecated)]
                webauthn
                    .finish_discoverable_authentication(answered, state, &[DiscoverableKey::from(passkey)])
                    .map_err(|e| refused("sign-in", e))
            })
            .await;
        let account = self.account(user_id).await.map_err(|_| AppError::PasskeyRefused)?;
        let who = Some((account.id, account.email.as_str()));
        let used = match used {
            Ok(row) => row,
            Err(err) => {
                let detail = Some("passkey refused".to_owned());
                self.deps
                    .audit
                    .record(AuditAction::SignInFailed, None, who, client, detail)
                    .await;
                return Err(err);
            }
        };
        let detail = format!("with passkey \"{}\"", used.name);
        self.start_checked_session(&account, client, Persistence::chosen(input.remember), previous, detail)
            .await
    }

    /// Options to assert one of `user_id`'s passkeys, for `purpose`.
    async fn start_assertion(&self, user_id: Uuid, purpose: Ceremony) -> Result<PasskeyChallenge, AppError> {
        let passkeys = Self::passkey_rows(self.db(), user_id)
            .await?
            .iter()
            .map(Self::credential)
            .collect::<Result<Vec<_>, _>>()?;
        if passkeys.is_empty() {
            return Err(AppError::conflict("This account has no passkey."));
        }
        let (options, state) = self
            .relying_party()?
            .start_passkey_authentication(&passkeys)
            .map_err(AppError::internal)?;
        let id = self.save_ceremony(Some(user_id), purpose, &state).await?;
        challenge(id, &options.public_key)
    }

    /// Checks an assertion of one of `user_id`'s passkeys for a ceremony of `purpose`.
    async fn finish_assertion(
        &self,
        user_id: Uuid,
        purpose: Ceremony,
        input: &PasskeyResponseInput,
    ) -> Result<passkeys::Model, AppError> {
        let state: PasskeyAuthentication = self.take_ceremony(&input.challenge_id, purpose, Some(user_id)).await?;
        let answer: PublicKeyCredential = parse_answer(input)?;
        let (webauthn, answered) = (self.relying_party()?.clone(), &answer);
        self.verify_assertion(user_id, &answer, move |_| {
            webauthn
                .finish_passkey_authentication(answered, &state)
                .map_err(|e| refused("assertion", e))
        })
        .await
    }

    /// Sign-in's second step with a passkey: the options, for the pending sign-in.
    pub async fn start_passkey_second_step(
        &self,
        pending: Option<&SessionToken>,
    ) -> Result<PasskeyChallenge, AppError> {
        let user_id = self.pending_account(pending).await?;
        self.start_assertion(user_id, Ceremony::SecondFactor).await
    }

    /// Sign-in's second step with a passkey: its answer, with the pending cookie.
    pub async fn finish_passkey_second_step(
        &self,
        pending: Option<&SessionToken>,
        input: &PasskeyResponseInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<(User, NewSession), AppError> {
        let pending = pending.ok_or(AppError::Unauthenticated)?;
        let input = input.clone();
        self.complete_with(pending, client, previous, move |this, account| {
            let input = input.clone();
            let user_id = account.id;
            async move {
                match this.finish_assertion(user_id, Ceremony::SecondFactor, &input).await {
                    Ok(_) => Ok(Some(SecondFactorMethod::Passkey)),
                    Err(AppError::PasskeyRefused) => Ok(None),
                    Err(err) => Err(err),
                }
            }
        })
        .await
    }

    /// Proving oneself again with a passkey: the options.
    pub async fn start_passkey_reauthentication(&self, caller: &Caller) -> Result<PasskeyChallenge, AppError> {
        let user_id = caller.user_id()?;
        self.start_assertion(user_id, Ceremony::Reauthenticate).await
    }

    /// Proving oneself again with a passkey: its answer.
    pub async fn finish_passkey_reauthentication(
        &self,
        caller: &Caller,
        input: &PasskeyResponseInput,
    ) -> Result<Reauthenticated, AppError> {
        let user_id = caller.user_id()?;
        let token = caller.token.as_ref().ok_or(AppError::Unauthenticated)?;
        let account = self.account(user_id).await?;
        let keys = self.deps.throttle.keys(&account.email, caller.client.ip.as_deref());
        self.deps.throttle.check(&keys).await?;
        let used = match self.finish_assertion(user_id, Ceremony::Reauthenticate, input).await {
            Ok(row) => row,
            Err(AppError::PasskeyRefused) => {
                self.deps.throttle.record_failure(&keys).await?;
                return Err(AppError::PasskeyRefused);
            }
            Err(err) => return Err(err),
        };
        let until = self.reauth.record(token, account.id).await?;
        let who = Some((account.id, account.email.as_str()));
        let detail = Some(format!("with passkey \"{}\"", used.name));
        self.deps
            .audit
            .record(
                AuditAction::Reauthenticated,
                Some(account.id),
                who,
                &caller.client,
                detail,
            )
            .await;
        Ok(Reauthenticated {
            reauthenticated_until: until,
        })
    }
}

/// Forgets ceremonies past their time. Run with the session sweep.
pub async fn sweep<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(Ceremonies::delete_many()
        .filter(webauthn_ceremonies::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// The relying party: the id is `ROSTER_PUBLIC_URL`'s host, the origin the URL
/// itself. `None` when the host is an IP address: browsers (and webauthn-rs) refuse
/// those as relying-party ids, so passkeys are off there (and the pages say so).
pub fn relying_party(public_url: &str, product: &str) -> Result<Option<webauthn_rs::Webauthn>, String> {
    use webauthn_rs::prelude::Url;
    let origin = Url::parse(public_url).map_err(|e| format!("{public_url}: {e}"))?;
    let host = match origin.host_str() {
        None => return Err(format!("{public_url} has no host")),
        Some(host) if host.parse::<std::net::Ipv4Addr>().is_ok() || host.starts_with('[') => return Ok(None),
        Some(host) => host.to_owned(),
    };
    webauthn_rs::WebauthnBuilder::new(&host, &origin)
        .and_then(|builder| builder.rp_name(product).build())
        .map(Some)
        .map_err(|e| format!("passkeys cannot use {public_url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_urls_domain_and_an_ip_address_turns_passkeys_off() {
        assert!(
            relying_party("https://accounts.example.com", "Roster")
                .unwrap()
                .is_some()
        );
        assert!(relying_party("http://localhost:3000", "Roster").unwrap().is_some());
        assert!(relying_party("http://127.0.0.1:3000", "Roster").unwrap().is_none());
        assert!(relying_party("http://[::1]:3000", "Roster").unwrap().is_none());
        assert!(relying_party("not a url", "Roster").is_err());
    }
}
