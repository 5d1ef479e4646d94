//! /admin/users/new: creating an account (admins only). The new account's page
//! follows, where its role, sessions and the rest are managed.

use super::{AdminNav, AdminOnly};
use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, SubmitButton, action_error};
use crate::paths;
use crate::server_fns::users::CreateUser;
use crate::validation::{CreateUserInput, RegisterInput};
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};

#[component]
pub fn AdminNewUserPage() -> impl IntoView {
    view! {
        <Title text="New user" />
        <Meta name="description" content="Roster administration: create an account." />
        <AdminOnly content=|_| view! { <AdminNav current=paths::ADMIN_USERS /> <CreateUserForm /> } />
    }
}

#[component]
fn CreateUserForm() -> impl IntoView {
    let action = ServerAction::<CreateUser>::new();
    let fields = FormFields::new(["name", "email", "password"]);
    let role = NodeRef::<html::Select>::new();
    let server = action_error(action);
    // Checked here first (the same rules the server applies), so a mistake is
    // shown at once; the server's answer leads to the new account's page.
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = CreateUserInput {
            account: RegisterInput {
                name: fields.value("name"),
                email: fields.value("email"),
                password: fields.value("password"),
            },
            role: role.get_untracked().map(|r| r.value()).unwrap_or_default(),
        };
        if fields.check(input.validate()).is_some() {
            let CreateUserInput { account, role } = input;
            action.dispatch(CreateUser {
                name: account.name,
                email: account.email,
                password: account.password,
                role,
            });
        }
    };
    view! {
        <section class="card" aria-labelledby="create-title">
            <p><a href=paths::ADMIN_USERS>"← All users"</a></p>
            <h1 id="create-title">"New user"</h1>
            <p class="muted">
                "The account can sign in at once with the initial password; a link to confirm the address is mailed to it."
            </p>
            <FormAlert error=server />
            <form method="post" action=CreateUser::PATH on:submit=on_submit novalidate>
                <Field id="create-name" name="name" label="Name" autocomplete="off" node_ref=fields.input("name")
                    error=fields.error(server, "name") />
                <Field id="create-email" name="email" label="Email" kind="email" autocomplete="off"
                    node_ref=fields.input("email") error=fields.error(server, "email") />
                <Field id="create-password" name="password" label="Initial password" kind="password"
                    autocomplete="new-password" node_ref=fields.input("password")
                    error=fields.error(server, "password") />
                <div class="field">
                    <label for="create-role">"Role"</label>
                    <select id="create-role" name="role" node_ref=role>
                        <option value="user">"user"</option>
                        <option value="admin">"admin"</option>
                    </select>
                </div>
                <SubmitButton pending=action.pending() label="Create user" pending_label="Creating…" />
            </form>
        </section>
    }
}
