// The expansion of #[derive(Entity)] on:
// /// A support request.
// #[derive(Entity)]
// #[entity(tenant, keyset(created_at desc))]
// pub struct Ticket {
//     pub id: Uuid,
//     pub tenant_id: Uuid,
//     #[column(references = Queue)]
//     pub queue_id: Uuid,
//     #[column(min_len = 1, max_len = 200)]
//     pub title: String,
//     #[column(sensitive)]
//     pub reporter_email: String,
//     pub created_by: Option<Uuid>,
//     pub updated_by: Option<Uuid>,
//     pub created_at: DateTime<Utc>,
//     pub updated_at: DateTime<Utc>,
//     pub deleted_at: Option<DateTime<Utc>>,
//     pub version: i32,
// }
#[doc = "The columns of [`Ticket`] (table `tickets`), for sea-query expressions."]
#[allow(dead_code)]
#[derive(
    :: core :: fmt :: Debug,
    :: core :: clone :: Clone,
    :: core :: marker :: Copy,
    :: core :: cmp :: PartialEq,
    :: core :: cmp :: Eq,
    :: core :: hash :: Hash,
)]
pub enum TicketColumn {
    #[doc = "The `id` column."]
    Id,
    #[doc = "The `tenant_id` column."]
    TenantId,
    #[doc = "The `queue_id` column."]
    QueueId,
    #[doc = "The `title` column."]
    Title,
    #[doc = "The `reporter_email` column."]
    ReporterEmail,
    #[doc = "The `created_by` column."]
    CreatedBy,
    #[doc = "The `updated_by` column."]
    UpdatedBy,
    #[doc = "The `created_at` column."]
    CreatedAt,
    #[doc = "The `updated_at` column."]
    UpdatedAt,
    #[doc = "The `deleted_at` column."]
    DeletedAt,
    #[doc = "The `version` column."]
    Version,
}
impl TicketColumn {
    #[doc = r" Every column, in field order."]
    pub const ALL: &'static [TicketColumn] = &[
        TicketColumn::Id,
        TicketColumn::TenantId,
        TicketColumn::QueueId,
        TicketColumn::Title,
        TicketColumn::ReporterEmail,
        TicketColumn::CreatedBy,
        TicketColumn::UpdatedBy,
        TicketColumn::CreatedAt,
        TicketColumn::UpdatedAt,
        TicketColumn::DeletedAt,
        TicketColumn::Version,
    ];
    #[doc = r" The column name."]
    pub fn name(self) -> &'static str {
        ::ordinance::__private::column_name(<Ticket as ::ordinance::Entity>::SCHEMA, self as usize)
    }
}
impl ::ordinance::__private::sea_query::Iden for TicketColumn {
    fn quoted(&self) -> ::ordinance::__private::Cow<'static, str> {
        ::ordinance::__private::Cow::Borrowed(self.name())
    }
    fn unquoted(&self) -> &str {
        self.name()
    }
}
#[doc = "The unique keys of [`Ticket`], one per unique index: the conflict target of an upsert (`Repo::upsert`, `batch::upsert_many`, `query::upsert`)."]
#[allow(dead_code)]
#[derive(
    :: core :: fmt :: Debug,
    :: core :: clone :: Clone,
    :: core :: marker :: Copy,
    :: core :: cmp :: PartialEq,
    :: core :: cmp :: Eq,
    :: core :: hash :: Hash,
)]
pub enum TicketKey {}
impl ::ordinance::UniqueKey for TicketKey {
    fn index_position(self) -> usize {
        match self {}
    }
}
#[doc = "The keyset orders of [`Ticket`], one per `keyset(...)`: what `Pager::order` takes."]
#[allow(dead_code)]
#[derive(
    :: core :: fmt :: Debug,
    :: core :: clone :: Clone,
    :: core :: marker :: Copy,
    :: core :: cmp :: PartialEq,
    :: core :: cmp :: Eq,
    :: core :: hash :: Hash,
)]
pub enum TicketOrder {
    #[doc = "Pages by `created_at desc`, `id` breaking ties."]
    CreatedAtDesc,
}
impl ::ordinance::KeysetOrder for TicketOrder {
    const ALL: &'static [Self] = &[TicketOrder::CreatedAtDesc];
    fn position(self) -> usize {
        match self {
            TicketOrder::CreatedAtDesc => 0usize,
        }
    }
    fn name(self) -> &'static str {
        match self {
            TicketOrder::CreatedAtDesc => "created_at_desc",
        }
    }
}
::ordinance::__private::inventory::submit! { :: ordinance :: __private :: Registered (< Ticket as :: ordinance :: Entity > :: SCHEMA) }
impl ::ordinance::Entity for Ticket {
    const TABLE: &'static str = "tickets";
    const SCHEMA_NAME: ::core::option::Option<&'static str> = ::core::option::Option::None;
    const TENANT: bool = true;
    type Column = TicketColumn;
    const SCHEMA: &'static ::ordinance::__private::TableSchema =
        &::ordinance::__private::TableSchema {
            schema: <Self as ::ordinance::Entity>::SCHEMA_NAME,
            name: "tickets",
            struct_name: "Ticket",
            comment: ::core::option::Option::Some("A support request."),
            columns: &[
                ::ordinance::__private::Column {
                    name: "id",
                    renamed_from: ::core::option::Option::None,
                    field: "id",
                    sql_type: <Uuid as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: ::core::option::Option::Some(
                        ::ordinance::__private::ColumnDefault::RandomUuid,
                    ),
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "tenant_id",
                    renamed_from: ::core::option::Option::None,
                    field: "tenant_id",
                    sql_type: <Uuid as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: ::core::option::Option::Some(
                        ::ordinance::__private::ColumnDefault::Setting(
                            ::ordinance::__private::TENANT_SETTING,
                        ),
                    ),
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "queue_id",
                    renamed_from: ::core::option::Option::None,
                    field: "queue_id",
                    sql_type: <Uuid as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: <Uuid as ::ordinance::__private::ColumnType>::DEFAULT,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "title",
                    renamed_from: ::core::option::Option::None,
                    field: "title",
                    sql_type: <String as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: <String as ::ordinance::__private::ColumnType>::DEFAULT,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "reporter_email",
                    renamed_from: ::core::option::Option::None,
                    field: "reporter_email",
                    sql_type: <String as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: <String as ::ordinance::__private::ColumnType>::DEFAULT,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: true,
                },
                ::ordinance::__private::Column {
                    name: "created_by",
                    renamed_from: ::core::option::Option::None,
                    field: "created_by",
                    sql_type: <Uuid as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: true,
                    default: ::core::option::Option::Some(
                        ::ordinance::__private::ColumnDefault::Setting(
                            ::ordinance::__private::ACTOR_SETTING,
                        ),
                    ),
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "updated_by",
                    renamed_from: ::core::option::Option::None,
                    field: "updated_by",
                    sql_type: <Uuid as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: true,
                    default: ::core::option::Option::Some(
                        ::ordinance::__private::ColumnDefault::Setting(
                            ::ordinance::__private::ACTOR_SETTING,
                        ),
                    ),
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "created_at",
                    renamed_from: ::core::option::Option::None,
                    field: "created_at",
                    sql_type: <DateTime<Utc> as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: ::core::option::Option::Some(
                        ::ordinance::__private::ColumnDefault::Now,
                    ),
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "updated_at",
                    renamed_from: ::core::option::Option::None,
                    field: "updated_at",
                    sql_type: <DateTime<Utc> as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: ::core::option::Option::Some(
                        ::ordinance::__private::ColumnDefault::Now,
                    ),
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "deleted_at",
                    renamed_from: ::core::option::Option::None,
                    field: "deleted_at",
                    sql_type: <DateTime<Utc> as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: true,
                    default: ::core::option::Option::None,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "version",
                    renamed_from: ::core::option::Option::None,
                    field: "version",
                    sql_type: <i32 as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: ::core::option::Option::Some(
                        ::ordinance::__private::ColumnDefault::Integer(1),
                    ),
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
            ],
            primary_key: "tickets_pkey",
            foreign_keys: &[::ordinance::__private::ForeignKey {
                name: "tickets_queue_id_fkey",
                column: "queue_id",
                references: <Queue as ::ordinance::Entity>::TABLE,
                references_schema: <Queue as ::ordinance::Entity>::SCHEMA_NAME,
                on_delete: ::ordinance::__private::OnDelete::Restrict,
                within_tenant: <Queue as ::ordinance::Entity>::TENANT,
                aggregate: false,
            }],
            checks: &[
                ::ordinance::__private::Check {
                    name: "tickets_title_min_length",
                    column: "title",
                    kind: ::ordinance::__private::CheckKind::MinLength(1u32),
                },
                ::ordinance::__private::Check {
                    name: "tickets_title_max_length",
                    column: "title",
                    kind: ::ordinance::__private::CheckKind::MaxLength(200u32),
                },
                ::ordinance::__private::Check {
                    name: "tickets_version_min",
                    column: "version",
                    kind: ::ordinance::__private::CheckKind::Min(1i64),
                },
            ],
            indexes: &[
                ::ordinance::__private::Index {
                    name: "idx_tickets_queue_id",
                    columns: &[::ordinance::__private::IndexColumn {
                        name: "queue_id",
                        descending: false,
                        function: ::core::option::Option::None,
                    }],
                    unique: false,
                    live_only: false,
                    method: ::ordinance::__private::IndexMethod::BTree,
                    include: &[],
                    predicate: &[],
                },
                ::ordinance::__private::Index {
                    name: "idx_tickets_tenant_id_created_at_id",
                    columns: &[
                        ::ordinance::__private::IndexColumn {
                            name: "tenant_id",
                            descending: true,
                            function: ::core::option::Option::None,
                        },
                        ::ordinance::__private::IndexColumn {
                            name: "created_at",
                            descending: true,
                            function: ::core::option::Option::None,
                        },
                        ::ordinance::__private::IndexColumn {
                            name: "id",
                            descending: true,
                            function: ::core::option::Option::None,
                        },
                    ],
                    unique: false,
                    live_only: true,
                    method: ::ordinance::__private::IndexMethod::BTree,
                    include: &[],
                    predicate: &[],
                },
                ::ordinance::__private::Index {
                    name: "idx_tickets_tenant_id_id_unique",
                    columns: &[
                        ::ordinance::__private::IndexColumn {
                            name: "tenant_id",
                            descending: false,
                            function: ::core::option::Option::None,
                        },
                        ::ordinance::__private::IndexColumn {
                            name: "id",
                            descending: false,
                            function: ::core::option::Option::None,
                        },
                    ],
                    unique: true,
                    live_only: false,
                    method: ::ordinance::__private::IndexMethod::BTree,
                    include: &[],
                    predicate: &[],
                },
            ],
            keysets: &[&[
                ::ordinance::__private::IndexColumn {
                    name: "tenant_id",
                    descending: true,
                    function: ::core::option::Option::None,
                },
                ::ordinance::__private::IndexColumn {
                    name: "created_at",
                    descending: true,
                    function: ::core::option::Option::None,
                },
                ::ordinance::__private::IndexColumn {
                    name: "id",
                    descending: true,
                    function: ::core::option::Option::None,
                },
            ]],
            waivers: &[],
            tenant: true,
            history: false,
            aggregate_root: false,
            outbox: false,
            partitioned: ::core::option::Option::None,
            conventions: &::ordinance::__private::Conventions::DEFAULT,
        };
    type New = NewTicket;
    type Key = TicketKey;
    type Order = TicketOrder;
    type Patch = TicketPatch;
    fn statements() -> &'static ::ordinance::__private::Statements {
        static STATEMENTS: ::ordinance::__private::OnceLock<::ordinance::__private::Statements> =
            ::ordinance::__private::OnceLock::new();
        STATEMENTS.get_or_init(|| {
            ::ordinance::__private::Statements::for_entity(<Self as ::ordinance::Entity>::SCHEMA)
        })
    }
    fn from_row_at(
        row: &::ordinance::__private::Row,
        offset: usize,
    ) -> ::ordinance::__private::Result<Self> {
        ::core::result::Result::Ok(Self {
            id: ::ordinance::__private::decode(
                row,
                offset,
                0usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            tenant_id: ::ordinance::__private::decode(
                row,
                offset,
                1usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            queue_id: ::ordinance::__private::decode(
                row,
                offset,
                2usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            title: ::ordinance::__private::decode(
                row,
                offset,
                3usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            reporter_email: ::ordinance::__private::decode(
                row,
                offset,
                4usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            created_by: ::ordinance::__private::decode(
                row,
                offset,
                5usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            updated_by: ::ordinance::__private::decode(
                row,
                offset,
                6usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            created_at: ::ordinance::__private::decode(
                row,
                offset,
                7usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            updated_at: ::ordinance::__private::decode(
                row,
                offset,
                8usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            deleted_at: ::ordinance::__private::decode(
                row,
                offset,
                9usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            version: ::ordinance::__private::decode(
                row,
                offset,
                10usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
        })
    }
    fn id(&self) -> ::ordinance::__private::Uuid {
        self.id
    }
    fn version(&self) -> ::core::option::Option<i32> {
        ::core::option::Option::Some(self.version)
    }
    fn bind_business<'a>(&'a self, out: &mut ::ordinance::__private::Params<'a>) {
        out.extend_from_slice(&[
            &self.queue_id as ::ordinance::__private::SqlParam<'_>,
            &self.title as ::ordinance::__private::SqlParam<'_>,
            &self.reporter_email as ::ordinance::__private::SqlParam<'_>,
        ]);
    }
    fn check_values(&self) -> ::ordinance::__private::Result<()> {
        let mut checker =
            ::ordinance::__private::Checker::new(<Self as ::ordinance::Entity>::SCHEMA);
        checker.field(
            &self.title,
            3usize,
            ::ordinance::__private::Limits {
                min_len: ::core::option::Option::Some(1u32),
                max_len: ::core::option::Option::Some(200u32),
                min: ::core::option::Option::None,
                max: ::core::option::Option::None,
            },
        );
        checker.finish()
    }
}
#[doc = "A [`Ticket`] to insert: its business columns. The id (UUIDv7 unless given), timestamps, version and soft-delete marker are filled in by the kit and the database."]
#[derive(:: ordinance :: __private :: serde :: Deserialize)]
#[serde(
    crate = "::ordinance::__private::serde",
    bound(
        deserialize = "for<'__o> Uuid: ::ordinance::__private::serde::Deserialize<'de>, for<'__o> String: ::ordinance::__private::serde::Deserialize<'de>"
    ),
    deny_unknown_fields
)]
pub struct NewTicket {
    pub queue_id: Uuid,
    pub title: String,
    pub reporter_email: String,
}
impl ::core::clone::Clone for NewTicket
where
    for<'__o> Uuid: ::core::clone::Clone,
    for<'__o> String: ::core::clone::Clone,
    for<'__o> String: ::core::clone::Clone,
{
    fn clone(&self) -> Self {
        NewTicket {
            queue_id: ::core::clone::Clone::clone(&self.queue_id),
            title: ::core::clone::Clone::clone(&self.title),
            reporter_email: ::core::clone::Clone::clone(&self.reporter_email),
        }
    }
}
impl ::core::fmt::Debug for NewTicket
where
    for<'__o> Uuid: ::core::fmt::Debug,
    for<'__o> String: ::core::fmt::Debug,
    for<'__o> String: ::core::fmt::Debug,
{
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("NewTicket")
            .field("queue_id", &self.queue_id)
            .field("title", &self.title)
            .field("reporter_email", &::ordinance::__private::RedactedValue)
            .finish()
    }
}
impl ::ordinance::__private::SerializeFields for NewTicket
where
    for<'__o> Uuid: ::ordinance::__private::serde::Serialize,
    for<'__o> String: ::ordinance::__private::serde::Serialize,
{
    fn serialize_fields<__S: ::ordinance::__private::serde::Serializer>(
        &self,
        serializer: __S,
        reveal: bool,
    ) -> ::core::result::Result<__S::Ok, __S::Error> {
        use ::ordinance::__private::serde::ser::SerializeStruct as _;
        let _ = reveal;
        let len = 2usize + usize::from(reveal);
        let mut st = serializer.serialize_struct("NewTicket", len)?;
        st.serialize_field("queue_id", &self.queue_id)?;
        st.serialize_field("title", &self.title)?;
        if reveal {
            st.serialize_field("reporter_email", &self.reporter_email)?;
        } else {
            st.skip_field("reporter_email")?;
        }
        st.end()
    }
}
impl ::ordinance::__private::serde::Serialize for NewTicket
where
    for<'__o> Uuid: ::ordinance::__private::serde::Serialize,
    for<'__o> String: ::ordinance::__private::serde::Serialize,
{
    fn serialize<__S: ::ordinance::__private::serde::Serializer>(
        &self,
        serializer: __S,
    ) -> ::core::result::Result<__S::Ok, __S::Error> {
        ::ordinance::__private::SerializeFields::serialize_fields(self, serializer, false)
    }
}
impl ::ordinance::NewEntity for NewTicket {
    type Entity = Ticket;
    fn bind_business<'a>(&'a self, out: &mut ::ordinance::__private::Params<'a>) {
        out.extend_from_slice(&[
            &self.queue_id as ::ordinance::__private::SqlParam<'_>,
            &self.title as ::ordinance::__private::SqlParam<'_>,
            &self.reporter_email as ::ordinance::__private::SqlParam<'_>,
        ]);
    }
    fn check_values(&self) -> ::ordinance::__private::Result<()> {
        let mut checker =
            ::ordinance::__private::Checker::new(<Ticket as ::ordinance::Entity>::SCHEMA);
        checker.field(
            &self.title,
            3usize,
            ::ordinance::__private::Limits {
                min_len: ::core::option::Option::Some(1u32),
                max_len: ::core::option::Option::Some(200u32),
                min: ::core::option::Option::None,
                max: ::core::option::Option::None,
            },
        );
        checker.finish()
    }
}
#[doc = "Changes to a [`Ticket`]: each business column it sets (`Some`) is written by `Repo::patch`, checked against the version the caller saw; the others are left as they are. The id, timestamps, version and soft-delete marker are the kit's."]
#[derive(:: core :: default :: Default, :: ordinance :: __private :: serde :: Deserialize)]
#[serde(
    crate = "::ordinance::__private::serde",
    bound(
        deserialize = "for<'__o> Uuid: ::ordinance::__private::serde::Deserialize<'de>, for<'__o> String: ::ordinance::__private::serde::Deserialize<'de>"
    ),
    deny_unknown_fields,
    default
)]
pub struct TicketPatch {
    #[doc = ""]
    #[doc = "`None` leaves the column as it is."]
    #[serde(default, deserialize_with = "::ordinance::__private::set")]
    pub queue_id: ::core::option::Option<Uuid>,
    #[doc = ""]
    #[doc = "`None` leaves the column as it is."]
    #[serde(default, deserialize_with = "::ordinance::__private::set")]
    pub title: ::core::option::Option<String>,
    #[doc = ""]
    #[doc = "`None` leaves the column as it is."]
    #[serde(default, deserialize_with = "::ordinance::__private::set")]
    pub reporter_email: ::core::option::Option<String>,
}
impl ::core::clone::Clone for TicketPatch
where
    for<'__o> Uuid: ::core::clone::Clone,
    for<'__o> String: ::core::clone::Clone,
    for<'__o> String: ::core::clone::Clone,
{
    fn clone(&self) -> Self {
        TicketPatch {
            queue_id: ::core::clone::Clone::clone(&self.queue_id),
            title: ::core::clone::Clone::clone(&self.title),
            reporter_email: ::core::clone::Clone::clone(&self.reporter_email),
        }
    }
}
impl ::core::fmt::Debug for TicketPatch
where
    for<'__o> Uuid: ::core::fmt::Debug,
    for<'__o> String: ::core::fmt::Debug,
    for<'__o> String: ::core::fmt::Debug,
{
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("TicketPatch")
            .field("queue_id", &self.queue_id)
            .field("title", &self.title)
            .field(
                "reporter_email",
                &self
                    .reporter_email
                    .as_ref()
                    .map(|_| ::ordinance::__private::RedactedValue),
            )
            .finish()
    }
}
impl ::ordinance::__private::SerializeFields for TicketPatch
where
    for<'__o> Uuid: ::ordinance::__private::serde::Serialize,
    for<'__o> String: ::ordinance::__private::serde::Serialize,
{
    fn serialize_fields<__S: ::ordinance::__private::serde::Serializer>(
        &self,
        serializer: __S,
        reveal: bool,
    ) -> ::core::result::Result<__S::Ok, __S::Error> {
        use ::ordinance::__private::serde::ser::SerializeStruct as _;
        let _ = reveal;
        let len = 0usize
            + usize::from(self.queue_id.is_some())
            + usize::from(self.title.is_some())
            + usize::from(reveal && self.reporter_email.is_some());
        let mut st = serializer.serialize_struct("TicketPatch", len)?;
        if self.queue_id.is_some() {
            st.serialize_field("queue_id", &self.queue_id)?;
        } else {
            st.skip_field("queue_id")?;
        }
        if self.title.is_some() {
            st.serialize_field("title", &self.title)?;
        } else {
            st.skip_field("title")?;
        }
        if reveal && self.reporter_email.is_some() {
            st.serialize_field("reporter_email", &self.reporter_email)?;
        } else {
            st.skip_field("reporter_email")?;
        }
        st.end()
    }
}
impl ::ordinance::__private::serde::Serialize for TicketPatch
where
    for<'__o> Uuid: ::ordinance::__private::serde::Serialize,
    for<'__o> String: ::ordinance::__private::serde::Serialize,
{
    fn serialize<__S: ::ordinance::__private::serde::Serializer>(
        &self,
        serializer: __S,
    ) -> ::core::result::Result<__S::Ok, __S::Error> {
        ::ordinance::__private::SerializeFields::serialize_fields(self, serializer, false)
    }
}
impl ::ordinance::Patch for TicketPatch {
    type Entity = Ticket;
    fn bind_set<'a>(
        &'a self,
        set: &mut ::ordinance::__private::ColumnSet,
        out: &mut ::ordinance::__private::Params<'a>,
    ) {
        ::ordinance::__private::patch_field(&self.queue_id, 0usize, set, out);
        ::ordinance::__private::patch_field(&self.title, 1usize, set, out);
        ::ordinance::__private::patch_field(&self.reporter_email, 2usize, set, out);
    }
    fn is_empty(&self) -> bool {
        true && self.queue_id.is_none() && self.title.is_none() && self.reporter_email.is_none()
    }
    fn check_values(&self) -> ::ordinance::__private::Result<()> {
        let mut checker =
            ::ordinance::__private::Checker::new(<Ticket as ::ordinance::Entity>::SCHEMA);
        if let ::core::option::Option::Some(value) = &self.title {
            checker.field(
                value,
                3usize,
                ::ordinance::__private::Limits {
                    min_len: ::core::option::Option::Some(1u32),
                    max_len: ::core::option::Option::Some(200u32),
                    min: ::core::option::Option::None,
                    max: ::core::option::Option::None,
                },
            );
        }
        checker.finish()
    }
}
impl Ticket {
    #[doc = "`queue_id` as a relation. Belongs-to: each `Ticket`'s `Queue`; has-many: each `Queue` has its `Ticket`s."]
    pub const QUEUE: ::ordinance::relation::Relation<Ticket, Queue, ::ordinance::relation::Many> =
        ::ordinance::relation::Relation::new("queue_id", |row: &Ticket| {
            ::core::convert::Into::into(row.queue_id)
        });
}
impl ::core::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Ticket")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("queue_id", &self.queue_id)
            .field("title", &self.title)
            .field("reporter_email", &::ordinance::__private::RedactedValue)
            .field("created_by", &self.created_by)
            .field("updated_by", &self.updated_by)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("deleted_at", &self.deleted_at)
            .field("version", &self.version)
            .finish()
    }
}
impl ::ordinance::__private::SerializeFields for Ticket
where
    for<'__o> Uuid: ::ordinance::__private::serde::Serialize,
    for<'__o> String: ::ordinance::__private::serde::Serialize,
    for<'__o> Option<Uuid>: ::ordinance::__private::serde::Serialize,
    for<'__o> DateTime<Utc>: ::ordinance::__private::serde::Serialize,
    for<'__o> Option<DateTime<Utc>>: ::ordinance::__private::serde::Serialize,
    for<'__o> i32: ::ordinance::__private::serde::Serialize,
{
    fn serialize_fields<__S: ::ordinance::__private::serde::Serializer>(
        &self,
        serializer: __S,
        reveal: bool,
    ) -> ::core::result::Result<__S::Ok, __S::Error> {
        use ::ordinance::__private::serde::ser::SerializeStruct as _;
        let _ = reveal;
        let len = 10usize + usize::from(reveal);
        let mut st = serializer.serialize_struct("Ticket", len)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("tenant_id", &self.tenant_id)?;
        st.serialize_field("queue_id", &self.queue_id)?;
        st.serialize_field("title", &self.title)?;
        if reveal {
            st.serialize_field("reporter_email", &self.reporter_email)?;
        } else {
            st.skip_field("reporter_email")?;
        }
        st.serialize_field("created_by", &self.created_by)?;
        st.serialize_field("updated_by", &self.updated_by)?;
        st.serialize_field("created_at", &self.created_at)?;
        st.serialize_field("updated_at", &self.updated_at)?;
        st.serialize_field("deleted_at", &self.deleted_at)?;
        st.serialize_field("version", &self.version)?;
        st.end()
    }
}
impl ::ordinance::__private::serde::Serialize for Ticket
where
    for<'__o> Uuid: ::ordinance::__private::serde::Serialize,
    for<'__o> String: ::ordinance::__private::serde::Serialize,
    for<'__o> Option<Uuid>: ::ordinance::__private::serde::Serialize,
    for<'__o> DateTime<Utc>: ::ordinance::__private::serde::Serialize,
    for<'__o> Option<DateTime<Utc>>: ::ordinance::__private::serde::Serialize,
    for<'__o> i32: ::ordinance::__private::serde::Serialize,
{
    fn serialize<__S: ::ordinance::__private::serde::Serializer>(
        &self,
        serializer: __S,
    ) -> ::core::result::Result<__S::Ok, __S::Error> {
        ::ordinance::__private::SerializeFields::serialize_fields(self, serializer, false)
    }
}
const _: () = {
    #[derive(:: ordinance :: __private :: serde :: Deserialize)]
    #[serde(
        crate = "::ordinance::__private::serde",
        bound(
            deserialize = "for<'__o> Uuid: ::ordinance::__private::serde::Deserialize<'de>, for<'__o> String: ::ordinance::__private::serde::Deserialize<'de>, for<'__o> Option < Uuid >: ::ordinance::__private::serde::Deserialize<'de>, for<'__o> DateTime < Utc >: ::ordinance::__private::serde::Deserialize<'de>, for<'__o> Option < DateTime < Utc > >: ::ordinance::__private::serde::Deserialize<'de>, for<'__o> i32: ::ordinance::__private::serde::Deserialize<'de>"
        ),
        rename = "Ticket"
    )]
    struct Fields {
        id: Uuid,
        tenant_id: Uuid,
        queue_id: Uuid,
        title: String,
        reporter_email: String,
        created_by: Option<Uuid>,
        updated_by: Option<Uuid>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        deleted_at: Option<DateTime<Utc>>,
        version: i32,
    }
    impl<'de> ::ordinance::__private::serde::Deserialize<'de> for Ticket
    where
        for<'__o> Uuid: ::ordinance::__private::serde::Deserialize<'de>,
        for<'__o> String: ::ordinance::__private::serde::Deserialize<'de>,
        for<'__o> Option<Uuid>: ::ordinance::__private::serde::Deserialize<'de>,
        for<'__o> DateTime<Utc>: ::ordinance::__private::serde::Deserialize<'de>,
        for<'__o> Option<DateTime<Utc>>: ::ordinance::__private::serde::Deserialize<'de>,
        for<'__o> i32: ::ordinance::__private::serde::Deserialize<'de>,
    {
        fn deserialize<__D: ::ordinance::__private::serde::Deserializer<'de>>(
            deserializer: __D,
        ) -> ::core::result::Result<Self, __D::Error> {
            let fields =
                <Fields as ::ordinance::__private::serde::Deserialize>::deserialize(deserializer)?;
            ::core::result::Result::Ok(Ticket {
                id: fields.id,
                tenant_id: fields.tenant_id,
                queue_id: fields.queue_id,
                title: fields.title,
                reporter_email: fields.reporter_email,
                created_by: fields.created_by,
                updated_by: fields.updated_by,
                created_at: fields.created_at,
                updated_at: fields.updated_at,
                deleted_at: fields.deleted_at,
                version: fields.version,
            })
        }
    }
};
impl ::ordinance::__private::serde::Serialize for TicketOrder {
    fn serialize<__S: ::ordinance::__private::serde::Serializer>(
        &self,
        serializer: __S,
    ) -> ::core::result::Result<__S::Ok, __S::Error> {
        ::ordinance::__private::serialize_order(*self, serializer)
    }
}
impl<'de> ::ordinance::__private::serde::Deserialize<'de> for TicketOrder {
    fn deserialize<__D: ::ordinance::__private::serde::Deserializer<'de>>(
        deserializer: __D,
    ) -> ::core::result::Result<Self, __D::Error> {
        ::ordinance::__private::deserialize_order(deserializer)
    }
}
