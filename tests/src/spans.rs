//! A `tracing` layer that keeps every span (name, fields, parent) and
//! event, for tests that read back what the kit traced.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Field name -> recorded value.
pub type FieldMap = BTreeMap<String, String>;

/// What the layer kept.
#[derive(Default, Clone)]
pub struct Captured {
    /// span id -> (name, fields)
    pub spans: Arc<Mutex<BTreeMap<u64, (String, FieldMap)>>>,
    /// (level, fields) of each event
    pub events: Arc<Mutex<Vec<(String, FieldMap)>>>,
    /// span id -> its parent's id
    pub parents: Arc<Mutex<BTreeMap<u64, u64>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Captured {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(parent) = ctx.span(id).and_then(|s| s.parent()) {
            self.parents
                .lock()
                .expect("lock")
                .insert(id.into_u64(), parent.id().into_u64());
        }
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let name = attrs.metadata().name().to_owned();
        self.spans
            .lock()
            .expect("lock")
            .insert(id.into_u64(), (name, fields));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some((_, fields)) = self.spans.lock().expect("lock").get_mut(&id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let level = event.metadata().level().to_string();
        self.events.lock().expect("lock").push((level, fields));
    }
}

impl Captured {
    /// A new capture, installed as this thread's subscriber until the
    /// guard drops.
    pub fn install() -> (Captured, tracing::subscriber::DefaultGuard) {
        use tracing_subscriber::layer::SubscriberExt as _;
        let captured = Captured::default();
        crate::two_dispatchers();
        let guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(captured.clone()));
        (captured, guard)
    }

    /// [`install`](Self::install), the layer taking only what is at
    /// `level` or above: a service that logs warnings and keeps no spans.
    pub fn install_at(
        level: tracing::level_filters::LevelFilter,
    ) -> (Captured, tracing::subscriber::DefaultGuard) {
        use tracing_subscriber::layer::{Layer as _, SubscriberExt as _};
        let captured = Captured::default();
        crate::two_dispatchers();
        let guard = tracing::subscriber::set_default(
            tracing_subscriber::registry().with(captured.clone().with_filter(level)),
        );
        (captured, guard)
    }

    /// The names of `id`'s ancestors, nearest first.
    pub fn ancestors(&self, mut id: u64) -> Vec<String> {
        let spans = self.spans.lock().expect("lock");
        let parents = self.parents.lock().expect("lock");
        let mut out = Vec::new();
        while let Some(parent) = parents.get(&id) {
            out.push(
                spans
                    .get(parent)
                    .map(|(n, _)| n.clone())
                    .unwrap_or_default(),
            );
            id = *parent;
        }
        out
    }

    /// Ids and fields of the spans named `name`, in creation order.
    pub fn named(&self, name: &str) -> Vec<(u64, FieldMap)> {
        self.spans
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, (n, _))| n == name)
            .map(|(id, (_, f))| (*id, f.clone()))
            .collect()
    }
}
