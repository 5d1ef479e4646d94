//! Second factors: an authenticator app (TOTP) with its recovery codes. Setting one
//! up, confirming it with its first code, turning it off, new recovery codes, an
//! administrator's reset, and proving oneself again before sensitive changes. The
//! sign-in step they add is `sign_in`.
//!
//! Rules, each enforced here:
//! - the app's secret is stored sealed (`secret_box`) and never shown again once
//!   confirmed; recovery codes are stored as SHA-256 and shown once;
//! - a code is accepted once: an app's code only if its time step is later than the
//!   last one accepted, a recovery code only while unused (each a conditional UPDATE,
//!   so two requests with one code cannot both pass);
//! - every code or password tried counts against the same limits as a password
//!   (`LoginThrottle`, by address and IP);
//! - setting up, new codes and an administrator's reset need a recent proof
//!   (`reauth`); turning the app off needs the password or a code in the request.

pub mod passkeys;
pub mod recovery;
mod sign_in;
pub mod totp;

pub use passkeys::{relying_party, sweep as sweep_ceremonies};
pub use sign_in::{FirstStep, MAX_TRIES, PENDING_TTL, PendingSignIn, SignInStep, sweep as sweep_pending_sign_ins};

use crate::error::AppError;
use crate::model::{
    AuditAction, Reauthenticated, RecoveryCodes, SecondFactorMethod, SecondFactorStatus, TotpEnrolment,
};
use crate::policy::{Action, Target, authorize};
use crate::ssr::caller::{Caller, ClientMeta};
use crate::ssr::email_tokens::LinkServices;
use crate::ssr::entity::recovery_codes::{self, Entity as RecoveryCodeRows};
use crate::ssr::entity::totp_factors::{self, Entity as TotpRows};
use crate::ssr::entity::{pending_sign_ins, users};
use crate::ssr::mail::{Action as MailAction, Mail, outbox};
use crate::ssr::password::PasswordHasher;
use crate::ssr::reauth::Reauth;
use crate::ssr::secret_box::SecretBox;
use crate::validation::{FactorCode, FactorCodeInput, Proof, ProofInput};
use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// How long an app being set up waits for its first code.
pub const ENROLMENT_TTL: Duration = Duration::minutes(15);

#[derive(Clone)]
pub struct SecondFactors {
    deps: LinkServices,
    hasher: PasswordHasher,
    secrets: SecretBox,
    reauth: Reauth,
    /// The relying party passkeys are made for (`ROSTER_PUBLIC_URL`); none when that
    /// names the site by an IP address, which browsers refuse for passkeys.
    webauthn: Option<std::sync::Arc<webauthn_rs::Webauthn>>,
}

/// What a code proved, for the audit log and the notices.
fn method_label(method: SecondFactorMethod) -> &'static str {
    match method {
        SecondFactorMethod::Totp => "authenticator app",
        SecondFactorMethod::RecoveryCode => "recovery code",
        SecondFactorMethod::Passkey => "passkey",
    }
}

impl SecondFactors {
    pub fn new(
        deps: LinkServices,
        hasher: PasswordHasher,
        secrets: SecretBox,
        reauth: Reauth,
        webauthn: Option<webauthn_rs::Webauthn>,
    ) -> Self {
        Self {
            deps,
            hasher,
            secrets,
            reauth,
            webauthn: webauthn.map(std::sync::Arc::new),
        }
    }

    pub fn reauth(&self) -> &Reauth {
        &self.reauth
    }

    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    fn db(&self) -> &DatabaseConnection {
        &self.deps.db
    }

    async fn account(&self, id: Uuid) -> Result<users::Model, AppError> {
        users::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The signed-in caller's account, if the policy lets them manage their factors.
    async fn own_account(&self, caller: &Caller) -> Result<users::Model, AppError> {
        authorize(caller.actor, Action::ManageOwnSecondFactors, Target::Myself)?;
        self.account(caller.user_id()?).await
    }

    async fn confirmed_totp<C: ConnectionTrait>(
        db: &C,
        user_id: Uuid,
    ) -> Result<Option<totp_factors::Model>, AppError> {
        Ok(TotpRows::find_by_id(user_id)
            .filter(totp_factors::Column::ConfirmedAt.is_not_null())
            .one(db)
            .await?)
    }

    async fn unused_codes<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u64, AppError> {
        Ok(RecoveryCodeRows::find()
            .filter(recovery_codes::Column::UserId.eq(user_id))
            .filter(recovery_codes::Column::UsedAt.is_null())
            .count(db)
            .await?)
    }

    /// How sign-in's second step can be passed for the account (empty: it has none).
    /// An authenticator app and passkeys are second factors; recovery codes stand in
    /// for them.
    pub async fn methods_of(&self, user_id: Uuid) -> Result<Vec<SecondFactorMethod>, AppError> {
        let mut methods = Vec::new();
        if Self::confirmed_totp(self.db(), user_id).await?.is_some() {
            methods.push(SecondFactorMethod::Totp);
        }
        if Self::passkey_count(self.db(), user_id).await? > 0 {
            methods.push(SecondFactorMethod::Passkey);
        }
        if !methods.is_empty() && Self::unused_codes(self.db(), user_id).await? > 0 {
            methods.push(SecondFactorMethod::RecoveryCode);
        }
        Ok(methods)
    }

    /// Whether the account has a second factor (recovery codes alone are none).
    async fn has_a_factor<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<bool, AppError> {
        Ok(Self::confirmed_totp(db, user_id).await?.is_some() || Self::passkey_count(db, user_id).await? > 0)
    }

    /// The caller's own factors, as they may see them.
    pub async fn status(&self, caller: &Caller) -> Result<SecondFactorStatus, AppError> {
        let account = self.own_account(caller).await?;
        let methods = self.methods_of(account.id).await?;
        Ok(SecondFactorStatus {
            totp: methods.contains(&SecondFactorMethod::Totp),
            recovery_codes_left: Self::unused_codes(self.db(), account.id).await? as u32,
            passkeys: Self::passkey_count(self.db(), account.id).await? as u32,
            methods,
        })
    }

    fn enrolment(&self, account: &users::Model, secret: &[u8]) -> Result<TotpEnrolment, AppError> {
        Ok(TotpEnrolment {
            secret: totp::secret_base32(secret),
            otpauth_uri: totp::otpauth_uri(secret, &self.deps.mail.product, &account.email)
                .map_err(AppError::internal)?,
        })
    }

    fn open_secret(&self, row: &totp_factors::Model) -> Result<Vec<u8>, AppError> {
        self.secrets
            .open(&row.secret_encrypted, row.user_id.as_bytes())
            .map_err(AppError::internal)
    }

    /// Starts setting up an authenticator app: a new secret, kept sealed, replacing
    /// any earlier setup not finished. Nothing guards sign-in until `confirm_totp`.
    pub async fn begin_totp(&self, caller: &Caller) -> Result<TotpEnrolment, AppError> {
        let account = self.own_account(caller).await?;
        self.reauth.require(caller).await?;
        if Self::confirmed_totp(self.db(), account.id).await?.is_some() {
            return Err(AppError::conflict(
                "An authenticator app is already set up. Turn it off first to set up another.",
            ));
        }
        let secret = totp::new_secret();
        let row = totp_factors::ActiveModel {
            user_id: Set(account.id),
            secret_encrypted: Set(self.secrets.seal(&secret, account.id.as_bytes())),
            confirmed_at: Set(None),
            last_used_step: Set(None),
            created_at: Set(Utc::now()),
        };
        // Only an unconfirmed row is replaced: a confirmation racing this keeps its app.
        let replaced = TotpRows::insert(row)
            .on_conflict(
                OnConflict::column(totp_factors::Column::UserId)
                    .update_columns([
                        totp_factors::Column::SecretEncrypted,
                        totp_factors::Column::CreatedAt,
                        totp_factors::Column::LastUsedStep,
                    ])
                    .action_and_where(Expr::col((TotpRows, totp_factors::Column::ConfirmedAt)).is_null())
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        if replaced == 0 {
            return Err(AppError::conflict("An authenticator app was set up meanwhile."));
        }
        self.enrolment(&account, &secret)
    }

    /// The app being set up, while it waits for its first code and the caller's
    /// proof is recent: what the security page shows (its QR code and secret).
    pub async fn pending_enrolment(&self, caller: &Caller) -> Result<Option<TotpEnrolment>, AppError> {
        let account = self.own_account(caller).await?;
        let Some(row) = self.unconfirmed(account.id).await? else {
            return Ok(None);
        };
        if !self.reauth.is_fresh(caller).await? {
            return Ok(None);
        }
        Ok(Some(self.enrolment(&account, &self.open_secret(&row)?)?))
    }

    async fn unconfirmed(&self, user_id: Uuid) -> Result<Option<totp_factors::Model>, AppError> {
        Ok(TotpRows::find_by_id(user_id)
            .filter(totp_factors::Column::ConfirmedAt.is_null())
            .filter(totp_factors::Column::CreatedAt.gt(Utc::now() - ENROLMENT_TTL))
            .one(self.db())
            .await?)
    }

    /// Finishes setting up with the app's first code: from now on sign-in asks for a
    /// code. Returns the first set of recovery codes (shown once).
    pub async fn confirm_totp(&self, caller: &Caller, input: &FactorCodeInput) -> Result<RecoveryCodes, AppError> {
        let account = self.own_account(caller).await?;
        let digits = input.validate_totp().map_err(AppError::validation)?;
        self.reauth.require(caller).await?;
        let keys = self.deps.throttle.keys(&account.email, caller.client.ip.as_deref());
        self.deps.throttle.check(&keys).await?;
        let Some(row) = self.unconfirmed(account.id).await? else {
            return Err(AppError::conflict(
                "There is no authenticator app waiting to be confirmed: start setting one up again.",
            ));
        };
        let secret = self.open_secret(&row)?;
        let now = Utc::now();
        let step = totp::matching_step(&secret, &digits, now.timestamp() as u64).map_err(AppError::internal)?;
        let Some(step) = step else {
            self.deps.throttle.record_failure(&keys).await?;
            return Err(AppError::invalid_field(
                "code",
                "That code is not right. Check the app's clock, and type the code it shows now.",
            ));
        };
        self.deps.throttle.record_success(&keys).await?;
        let txn = crate::ssr::db::begin_write(self.db()).await?;
        let confirmed = TotpRows::update_many()
            .col_expr(totp_factors::Column::ConfirmedAt, Expr::value(now))
            .col_expr(totp_factors::Column::LastUsedStep, Expr::value(step as i64))
            .filter(totp_factors::Column::UserId.eq(account.id))
            .filter(totp_factors::Column::ConfirmedAt.is_null())
            .filter(totp_factors::Column::SecretEncrypted.eq(row.secret_encrypted.as_str()))
            .exec(&txn)
            .await?
            .rows_affected;
        if confirmed != 1 {
            txn.rollback().await?;
            return Err(AppError::conflict(
                "This setup was replaced meanwhile: use the newest QR code.",
            ));
        }
        let codes = replace_recovery_codes(&txn, account.id, now).await?;
        outbox::enqueue(&txn, &self.notice(&account, Notice::Enabled)?).await?;
        txn.commit().await?;
        let who = Some((account.id, account.email.as_str()));
        self.deps
            .audit
            .record(
                AuditAction::SecondFactorEnabled,
                Some(account.id),
                who,
                &caller.client,
                None,
            )
            .await;
        Ok(codes)
    }

    /// Turns the app off (and voids the recovery codes, unless a passkey remains):
    /// needs the password or a code in the request, not only a session.
    pub async fn disable_totp(&self, caller: &Caller, input: &ProofInput) -> Result<(), AppError> {
        let account = self.own_account(caller).await?;
        let proof = input.validate().map_err(AppError::validation)?;
        if Self::confirmed_totp(self.db(), account.id).await?.is_none() {
            return Err(AppError::conflict("No authenticator app is set up."));
        }
        self.check_proof(&account, &proof, &caller.client, "turning off the authenticator app")
            .await?;
        let txn = crate::ssr::db::begin_write(self.db()).await?;
        TotpRows::delete_by_id(account.id).exec(&txn).await?;
        if !Self::has_a_factor(&txn, account.id).await? {
            delete_recovery_codes(&txn, account.id).await?;
        }
        outbox::enqueue(&txn, &self.notice(&account, Notice::Disabled)?).await?;
        txn.commit().await?;
        let who = Some((account.id, account.email.as_str()));
        self.deps
            .audit
            .record(
                AuditAction::SecondFactorDisabled,
                Some(account.id),
                who,
                &caller.client,
                None,
            )
            .await;
        Ok(())
    }

    /// A new set of recovery codes; the old set stops working.
    pub async fn regenerate_recovery_codes(&self, caller: &Caller) -> Result<RecoveryCodes, AppError> {
        let account = self.own_account(caller).await?;
        self.reauth.require(caller).await?;
        if !Self::has_a_factor(self.db(), account.id).await? {
            return Err(AppError::conflict(
                "Recovery codes stand in for an authenticator app or a passkey: set one up first.",
            ));
        }
        let txn = crate::ssr::db::begin_write(self.db()).await?;
        let codes = replace_recovery_codes(&txn, account.id, Utc::now()).await?;
        txn.commit().await?;
        let who = Some((account.id, account.email.as_str()));
        self.deps
            .audit
            .record(
                AuditAction::RecoveryCodesRegenerated,
                Some(account.id),
                who,
                &caller.client,
                None,
            )
            .await;
        Ok(codes)
    }

    /// An administrator removes another account's second factors (the owner lost
    /// their phone and their codes): audited, and the owner is told by mail.
    pub async fn reset_for(&self, caller: &Caller, user_id: Uuid) -> Result<(), AppError> {
        authorize(
            caller.actor,
            Action::ResetSecondFactors,
            Target::of(caller.actor, user_id),
        )?;
        self.reauth.require(caller).await?;
        let account = self.account(user_id).await?;
        let txn = crate::ssr::db::begin_write(self.db()).await?;
        let removed = remove_factors(&txn, account.id).await?;
        pending_sign_ins::Entity::delete_many()
            .filter(pending_sign_ins::Column::UserId.eq(account.id))
            .exec(&txn)
            .await?;
        if removed > 0 {
            outbox::enqueue(&txn, &self.notice(&account, Notice::Reset)?).await?;
        }
        txn.commit().await?;
        let who = Some((account.id, account.email.as_str()));
        let detail = (removed == 0).then(|| "the account had no second factor".to_owned());
        self.deps
            .audit
            .record(
                AuditAction::SecondFactorsReset,
                caller.actor.id(),
                who,
                &caller.client,
                detail,
            )
            .await;
        Ok(())
    }

    /// Proves again who holds the caller's session (password or code): sensitive
    /// changes are then allowed for the re-authentication window.
    pub async fn reauthenticate(&self, caller: &Caller, input: &ProofInput) -> Result<Reauthenticated, AppError> {
        let user_id = caller.user_id()?;
        let proof = input.validate().map_err(AppError::validation)?;
        let token = caller.token.as_ref().ok_or(AppError::Unauthenticated)?;
        let account = self.account(user_id).await?;
        let how = self
            .check_proof(&account, &proof, &caller.client, "re-authentication")
            .await?;
        let until = self.reauth.record(token, account.id).await?;
        let who = Some((account.id, account.email.as_str()));
        self.deps
            .audit
            .record(
                AuditAction::Reauthenticated,
                Some(account.id),
                who,
                &caller.client,
                Some(format!("with {how}")),
            )
            .await;
        Ok(Reauthenticated {
            reauthenticated_until: until,
        })
    }

    /// Checks a password or code for `why` (counted like a password), and says what
    /// it was. A wrong one is the field's error.
    async fn check_proof(
        &self,
        account: &users::Model,
        proof: &Proof,
        client: &ClientMeta,
        why: &str,
    ) -> Result<&'static str, AppError> {
        let keys = self.deps.throttle.keys(&account.email, client.ip.as_deref());
        self.deps.throttle.check(&keys).await?;
        let (proven, field, what) = match proof {
            Proof::Password(password) => {
                let ok = self.hasher.verify(password, Some(&account.password_hash)).await?;
                (ok.then_some("password"), "password", "password")
            }
            Proof::Code(code) => {
                let method = self.verify_code(account, code, client, why).await?;
                (method.map(method_label), "code", "code")
            }
        };
        let who = Some((account.id, account.email.as_str()));
        let Some(how) = proven else {
            self.deps.throttle.record_failure(&keys).await?;
            let detail = Some(format!("{why}: wrong {what}"));
            self.deps
                .audit
                .record(AuditAction::SignInFailed, None, who, client, detail)
                .await;
            return Err(AppError::invalid_field(field, format!("This {what} is not correct.")));
        };
        self.deps.throttle.record_success(&keys).await?;
        Ok(how)
    }

    /// Whether `code` is a second factor of the account right now, using it up if so
    /// (an app's time step, or a recovery code). A recovery code used is audited and
    /// its owner told, whatever it was used for (`why`).
    pub(crate) async fn verify_code(
        &self,
        account: &users::Model,
        code: &FactorCode,
        client: &ClientMeta,
        why: &str,
    ) -> Result<Option<SecondFactorMethod>, AppError> {
        let now = Utc::now();
        match code {
            FactorCode::Totp(digits) => {
                let Some(row) = Self::confirmed_totp(self.db(), account.id).await? else {
                    return Ok(None);
                };
                let secret = self.open_secret(&row)?;
                let Some(step) =
                    totp::matching_step(&secret, digits, now.timestamp() as u64).map_err(AppError::internal)?
                else {
                    return Ok(None);
                };
                // Accepted once: only a step later than the last one accepted.
                let step = step as i64;
                let taken = TotpRows::update_many()
                    .col_expr(totp_factors::Column::LastUsedStep, Expr::value(step))
                    .filter(totp_factors::Column::UserId.eq(account.id))
                    .filter(totp_factors::Column::ConfirmedAt.is_not_null())
                    .filter(
                        totp_factors::Column::LastUsedStep
                            .is_null()
                            .or(totp_factors::Column::LastUsedStep.lt(step)),
                    )
                    .exec(self.db())
                    .await?
                    .rows_affected;
                Ok((taken == 1).then_some(SecondFactorMethod::Totp))
            }
            FactorCode::Recovery(code) => {
                let txn = crate::ssr::db::begin_write(self.db()).await?;
                let used = RecoveryCodeRows::update_many()
                    .col_expr(recovery_codes::Column::UsedAt, Expr::value(now))
                    .filter(recovery_codes::Column::UserId.eq(account.id))
                    .filter(recovery_codes::Column::CodeHash.eq(recovery::hash(code)))
                    .filter(recovery_codes::Column::UsedAt.is_null())
                    .exec(&txn)
                    .await?
                    .rows_affected;
                if used != 1 {
                    txn.rollback().await?;
                    return Ok(None);
                }
                let left = Self::unused_codes(&txn, account.id).await?;
                outbox::enqueue(&txn, &self.notice(account, Notice::RecoveryCodeUsed { left })?).await?;
                txn.commit().await?;
                let who = Some((account.id, account.email.as_str()));
                let detail = Some(format!("for {why}; {left} left"));
                self.deps
                    .audit
                    .record(AuditAction::RecoveryCodeUsed, None, who, client, detail)
                    .await;
                Ok(Some(SecondFactorMethod::RecoveryCode))
            }
        }
    }

    /// New recovery codes, sealed for their owner: what the security page's cookie
    /// holds until they are shown and put away.
    pub fn seal_fresh_codes(&self, user_id: Uuid, codes: &[String]) -> Result<String, AppError> {
        let bytes = serde_json::to_vec(codes).map_err(AppError::internal)?;
        Ok(self.seal_for(user_id, &bytes))
    }

    /// The codes `seal_fresh_codes` sealed for `user_id`, if it was them.
    pub fn open_fresh_codes(&self, user_id: Uuid, sealed: &str) -> Option<Vec<String>> {
        serde_json::from_slice(&self.open_for(user_id, sealed)?).ok()
    }

    /// Seals anything for one account to read back (an admin page's notice).
    pub fn seal_for(&self, user_id: Uuid, bytes: &[u8]) -> String {
        self.secrets.seal(bytes, user_id.as_bytes())
    }

    /// What `seal_for` sealed for `user_id`, if it was them.
    pub fn open_for(&self, user_id: Uuid, sealed: &str) -> Option<Vec<u8>> {
        self.secrets.open(sealed, user_id.as_bytes()).ok()
    }

    /// How the pending sign-in this browser holds can take its second step.
    pub async fn pending_methods(
        &self,
        pending: Option<&crate::ssr::sessions::SessionToken>,
    ) -> Result<Vec<SecondFactorMethod>, AppError> {
        let user_id = self.pending_account(pending).await?;
        self.methods_of(user_id).await
    }

    /// Seals every stored secret again under the current key (after a rotation, so
    /// the previous key can be dropped). Returns how many were sealed again.
    pub async fn reseal_all(&self) -> Result<u64, AppError> {
        let mut resealed = 0;
        for row in TotpRows::find().all(self.db()).await? {
            if !self.secrets.is_sealed_with_old_key(&row.secret_encrypted) {
                continue;
            }
            let secret = self.open_secret(&row)?;
            let sealed = self.secrets.seal(&secret, row.user_id.as_bytes());
            // Only if unchanged meanwhile (a new setup is sealed with the new key anyway).
            resealed += TotpRows::update_many()
                .col_expr(totp_factors::Column::SecretEncrypted, Expr::value(sealed))
                .filter(totp_factors::Column::UserId.eq(row.user_id))
                .filter(totp_factors::Column::SecretEncrypted.eq(row.secret_encrypted.as_str()))
                .exec(self.db())
                .await?
                .rows_affected;
        }
        Ok(resealed)
    }

    fn notice(&self, account: &users::Model, notice: Notice) -> Result<Mail, AppError> {
        let product = &self.deps.mail.product;
        let (kind, subject, lines): (&'static str, String, Vec<String>) = match notice {
            Notice::Enabled => (
                "second_factor_enabled",
                format!("An authenticator app now protects your {product} account"),
                vec![
                    "Signing in to your account now asks for a code from your authenticator app after the password."
                        .into(),
                    "Keep your recovery codes somewhere safe: each one signs you in once if you lose the app.".into(),
                ],
            ),
            Notice::Disabled => (
                "second_factor_disabled",
                format!("The authenticator app was removed from your {product} account"),
                vec!["Signing in to your account no longer asks for a code from an authenticator app.".into()],
            ),
            Notice::Reset => (
                "second_factors_reset",
                format!("An administrator removed the second factor from your {product} account"),
                vec![
                    "An administrator of this service removed the authenticator app, the passkeys and the recovery codes from your account, as asked when a phone or the codes are lost.".into(),
                    "Signing in now needs only your password. Set up an authenticator app again on your security page.".into(),
                ],
            ),
            Notice::RecoveryCodeUsed { left } => (
                "recovery_code_used",
                format!("A recovery code was used on your {product} account"),
                vec![
                    "One of your recovery codes was just used, and will not work again.".into(),
                    format!("{left} unused code(s) left. You can make a new set on your security page."),
                ],
            ),
            Notice::PasskeyAdded(name) => (
                "passkey_added",
                format!("A passkey was added to your {product} account"),
                vec![format!(
                    "The passkey \"{name}\" can now sign in to your account, and stands in for a code from your authenticator app."
                )],
            ),
            Notice::PasskeyRemoved(name) => (
                "passkey_removed",
                format!("A passkey was removed from your {product} account"),
                vec![format!("The passkey \"{name}\" can no longer sign in to your account.")],
            ),
        };
        let mut content = self.deps.mail.content(subject, format!("Hello {},", account.name));
        content.paragraphs = lines;
        content.action = Some(MailAction {
            label: "Open your security page".into(),
            url: self.deps.mail.link(crate::paths::ACCOUNT_SECURITY),
        });
        content.after = vec!["If this was not you, change your password at once and sign out everywhere.".into()];
        Mail::compose(kind, &account.email, &content)
    }
}

/// What the owner of an account is told by mail.
enum Notice {
    Enabled,
    Disabled,
    Reset,
    RecoveryCodeUsed { left: u64 },
    PasskeyAdded(String),
    PasskeyRemoved(String),
}

/// Replaces the account's recovery codes with a new set; returns them as shown.
pub(super) async fn replace_recovery_codes<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<RecoveryCodes, AppError> {
    delete_recovery_codes(db, user_id).await?;
    let codes: Vec<String> = (0..recovery::CODES_PER_SET).map(|_| recovery::generate()).collect();
    let rows = codes.iter().map(|code| recovery_codes::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        code_hash: Set(recovery::hash(code)),
        used_at: Set(None),
        created_at: Set(now),
    });
    RecoveryCodeRows::insert_many(rows).exec_without_returning(db).await?;
    Ok(RecoveryCodes {
        recovery_codes: codes.iter().map(|c| recovery::display(c)).collect(),
    })
}

pub(super) async fn delete_recovery_codes<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u64, AppError> {
    Ok(RecoveryCodeRows::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Removes every second factor of the account (the app, its passkeys) and the
/// recovery codes; returns how many rows went.
async fn remove_factors<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u64, AppError> {
    let apps = TotpRows::delete_many()
        .filter(totp_factors::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected;
    let passkeys = crate::ssr::entity::passkeys::Entity::delete_many()
        .filter(crate::ssr::entity::passkeys::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected;
    let codes = delete_recovery_codes(db, user_id).await?;
    Ok(apps + passkeys + codes)
}
