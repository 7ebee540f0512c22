// Table names derive from struct names: snake_case, last word pluralised.
use ordinance::prelude::*;
use ordinance::Entity;

macro_rules! entities {
    ($($name:ident),*) => {$(
        #[derive(Entity)]
        pub struct $name {
            pub id: Uuid,
            pub created_at: DateTime<Utc>,
            pub updated_at: DateTime<Utc>,
            pub deleted_at: Option<DateTime<Utc>>,
            pub version: i32,
        }
    )*};
}

entities!(WorkflowStep, Person, Category, Address, Status, Analysis, HTTPRequestLog, Metadata, Child, ApiKey);

fn main() {
    assert_eq!(WorkflowStep::TABLE, "workflow_steps");
    assert_eq!(Person::TABLE, "people");
    assert_eq!(Category::TABLE, "categories");
    assert_eq!(Address::TABLE, "addresses");
    assert_eq!(Status::TABLE, "statuses");
    assert_eq!(Analysis::TABLE, "analyses");
    assert_eq!(HTTPRequestLog::TABLE, "http_request_logs");
    assert_eq!(Metadata::TABLE, "metadata");
    assert_eq!(Child::TABLE, "children");
    assert_eq!(ApiKey::TABLE, "api_keys");
    assert_eq!(Person::SCHEMA.primary_key, "people_pkey");
}
