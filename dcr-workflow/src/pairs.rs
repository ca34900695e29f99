//! Two walks at once, joined by Auth0 client id: the portal's applications (each naming
//! its client) and the tenant's clients. Used by `audit` (what is unpaired is orphaned)
//! and by `rename` (a pair is what a name is made of).
//!
//! Both lists come in creation order, so pairs meet within a page or two; a walk more
//! than [`LEAD`] items ahead waits for the other, so what is held unpaired stays small
//! however fast one side answers.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use auth0_mgmt::resources::clients::Client;
use futures::{Stream, StreamExt};
use konnect_appauth::PortalId;
use konnect_appauth::resources::portal_applications::PortalApplication;
use tokio::sync::Notify;

use crate::Workflow;

/// `client_metadata` key: the portal Konnect registered an application for.
pub(crate) const PORTAL_KEY: &str = "konnect_portal_id";
/// `client_metadata` key: the portal application Konnect registered it for.
pub(crate) const APPLICATION_KEY: &str = "konnect_application_id";
/// Only what the walks need of each client, to keep pages small.
pub(crate) const CLIENT_FIELDS: [&str; 3] = ["client_id", "name", "client_metadata"];

impl Workflow {
    /// The applications of `portals`, one portal after the other (each in creation
    /// order), a page at a time.
    pub(crate) fn portal_applications_walk<'a>(
        &'a self,
        portals: &'a [String],
    ) -> impl Stream<Item = konnect_appauth::Result<PortalApplication>> + 'a {
        futures::stream::iter(portals.iter().map(|portal| {
            self.konnect
                .portal_applications(PortalId::new(portal.clone()))
                .list()
                .page_size(konnect_appauth::MAX_PAGE_SIZE)
                .stream()
        }))
        .flatten()
    }

    /// The tenant's clients (id, name and metadata only), a page at a time.
    pub(crate) fn clients_walk(&self) -> impl Stream<Item = auth0_mgmt::Result<Client>> + 'static {
        self.auth0.clients().list().fields(CLIENT_FIELDS).stream()
    }
}

/// How far (in items) one walk may run ahead of the other before it waits: two pages.
pub(crate) const LEAD: usize = 200;

/// What the two walks have seen and not yet paired: `A` is what an application brings,
/// `C` what a client brings. Of a paired couple only the client id is kept.
pub(crate) struct Pairs<A, C> {
    /// Applications whose client has not been seen, by client id.
    applications: HashMap<String, A>,
    /// Clients whose application has not been seen.
    clients: HashMap<String, C>,
    /// Client ids already paired, in case a second application names the same client.
    matched: HashSet<String>,
    /// Applications with a client.
    pub(crate) application_count: usize,
    pub(crate) client_count: usize,
    /// Applications walked, with a client or not: what pacing compares.
    pub(crate) applications_walked: usize,
    pub(crate) applications_done: bool,
    pub(crate) clients_done: bool,
}

impl<A, C> Default for Pairs<A, C> {
    fn default() -> Self {
        Pairs {
            applications: HashMap::new(),
            clients: HashMap::new(),
            matched: HashSet::new(),
            application_count: 0,
            client_count: 0,
            applications_walked: 0,
            applications_done: false,
            clients_done: false,
        }
    }
}

impl<A, C> Pairs<A, C> {
    /// An application naming `client_id`: the pair, when its client was seen first.
    pub(crate) fn application(&mut self, client_id: String, application: A) -> Option<(A, C)> {
        self.application_count += 1;
        if let Some(client) = self.clients.remove(&client_id) {
            self.matched.insert(client_id);
            Some((application, client))
        } else {
            if !self.matched.contains(&client_id) {
                self.applications.insert(client_id, application);
            }
            None
        }
    }

    /// A client: the pair, when its application was seen first.
    pub(crate) fn client(&mut self, client_id: String, client: C) -> Option<(A, C)> {
        self.client_count += 1;
        if let Some(application) = self.applications.remove(&client_id) {
            self.matched.insert(client_id);
            Some((application, client))
        } else {
            self.clients.insert(client_id, client);
            None
        }
    }

    /// Whether the applications walk should wait for the clients walk.
    pub(crate) fn applications_ahead(&self) -> bool {
        !self.clients_done && self.applications_walked > self.client_count + LEAD
    }

    /// Whether the clients walk should wait for the applications walk.
    pub(crate) fn clients_ahead(&self) -> bool {
        !self.applications_done && self.client_count > self.applications_walked + LEAD
    }

    /// What stayed unpaired: applications by client id, and clients.
    pub(crate) fn unpaired(self) -> (HashMap<String, A>, HashMap<String, C>) {
        (self.applications, self.clients)
    }
}

/// The two walks' shared state and the signal that either made progress.
pub(crate) struct Join<A, C> {
    pairs: Mutex<Pairs<A, C>>,
    progress: Notify,
}

impl<A, C> Default for Join<A, C> {
    fn default() -> Self {
        Join {
            pairs: Mutex::new(Pairs::default()),
            progress: Notify::new(),
        }
    }
}

fn lock<A, C>(pairs: &Mutex<Pairs<A, C>>) -> MutexGuard<'_, Pairs<A, C>> {
    pairs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<A, C> Join<A, C> {
    /// Waits while `ahead` says this walk is too far in front of the other.
    pub(crate) async fn pace(&self, ahead: fn(&Pairs<A, C>) -> bool) {
        loop {
            let mut progressed = std::pin::pin!(self.progress.notified());
            progressed.as_mut().enable();
            if !ahead(&lock(&self.pairs)) {
                return;
            }
            progressed.await;
        }
    }

    /// Records an item (or the end of a walk) and wakes the other walk.
    pub(crate) fn update<R>(&self, change: impl FnOnce(&mut Pairs<A, C>) -> R) -> R {
        let out = change(&mut lock(&self.pairs));
        self.progress.notify_waiters();
        out
    }

    /// The state, once both walks are over.
    pub(crate) fn into_pairs(self) -> Pairs<A, C> {
        self.pairs.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_match_in_either_order_and_only_the_unpaired_remain() {
        let mut u: Pairs<&str, &str> = Pairs::default();
        assert_eq!(u.client("c1".into(), "client 1"), None); // client first
        assert_eq!(u.application("c1".into(), "app 1"), Some(("app 1", "client 1")));
        assert_eq!(u.application("c2".into(), "app 2"), None); // application first
        assert_eq!(u.client("c2".into(), "client 2"), Some(("app 2", "client 2")));
        u.client("c3".into(), "orphan client");
        u.application("c4".into(), "orphan app");
        assert_eq!(u.application("c1".into(), "second app of c1"), None);
        assert_eq!((u.application_count, u.client_count), (4, 3));
        let (apps, clients) = u.unpaired();
        assert_eq!(apps.keys().collect::<Vec<_>>(), ["c4"]);
        assert_eq!(clients.keys().collect::<Vec<_>>(), ["c3"]);
    }

    #[test]
    fn a_walk_more_than_two_pages_ahead_waits_until_the_other_ends() {
        let mut u: Pairs<(), ()> = Pairs {
            applications_walked: LEAD + 5,
            ..Pairs::default()
        };
        assert!(u.applications_ahead() && !u.clients_ahead());
        u.client_count = 5;
        assert!(!u.applications_ahead(), "within the lead again");
        u.client_count = 2 * LEAD + 6;
        assert!(u.clients_ahead());
        u.applications_done = true;
        assert!(!u.clients_ahead(), "nothing to wait for once the other walk ended");
    }
}
