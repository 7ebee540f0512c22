// The expansion of #[derive(Entity)] on:
// /// What a customer bought.
// #[derive(Entity, Debug, Clone)]
// #[entity(keyset(created_at desc, id desc), index(status, created_at desc))]
// pub struct Order {
//     pub id: Uuid,
//     #[column(references = Customer, on_delete = "cascade")]
//     pub customer_id: Uuid,
//     #[column(max_len = 40, unique)]
//     pub reference: String,
//     pub status: OrderStatus,
//     #[column(precision = 12, scale = 2, min = 0)]
//     pub total: Decimal,
//     pub lines: serde_json::Value,
//     pub tags: Vec<String>,
//     pub is_gift: bool,
//     pub shipped_on: Option<NaiveDate>,
//     pub created_at: DateTime<Utc>,
//     pub updated_at: DateTime<Utc>,
//     pub deleted_at: Option<DateTime<Utc>>,
//     pub version: i32,
// }
#[doc = "The columns of [`Order`] (table `orders`), for sea-query expressions."]
#[allow(dead_code)]
#[derive(
    :: core :: fmt :: Debug,
    :: core :: clone :: Clone,
    :: core :: marker :: Copy,
    :: core :: cmp :: PartialEq,
    :: core :: cmp :: Eq,
    :: core :: hash :: Hash,
)]
pub enum OrderColumn {
    #[doc = "The `id` column."]
    Id,
    #[doc = "The `customer_id` column."]
    CustomerId,
    #[doc = "The `reference` column."]
    Reference,
    #[doc = "The `status` column."]
    Status,
    #[doc = "The `total` column."]
    Total,
    #[doc = "The `lines` column."]
    Lines,
    #[doc = "The `tags` column."]
    Tags,
    #[doc = "The `is_gift` column."]
    IsGift,
    #[doc = "The `shipped_on` column."]
    ShippedOn,
    #[doc = "The `created_at` column."]
    CreatedAt,
    #[doc = "The `updated_at` column."]
    UpdatedAt,
    #[doc = "The `deleted_at` column."]
    DeletedAt,
    #[doc = "The `version` column."]
    Version,
}
impl OrderColumn {
    #[doc = r" Every column, in field order."]
    pub const ALL: &'static [OrderColumn] = &[
        OrderColumn::Id,
        OrderColumn::CustomerId,
        OrderColumn::Reference,
        OrderColumn::Status,
        OrderColumn::Total,
        OrderColumn::Lines,
        OrderColumn::Tags,
        OrderColumn::IsGift,
        OrderColumn::ShippedOn,
        OrderColumn::CreatedAt,
        OrderColumn::UpdatedAt,
        OrderColumn::DeletedAt,
        OrderColumn::Version,
    ];
    #[doc = r" The column name."]
    pub fn name(self) -> &'static str {
        ::ordinance::__private::column_name(<Order as ::ordinance::Entity>::SCHEMA, self as usize)
    }
}
impl ::ordinance::__private::sea_query::Iden for OrderColumn {
    fn quoted(&self) -> ::ordinance::__private::Cow<'static, str> {
        ::ordinance::__private::Cow::Borrowed(self.name())
    }
    fn unquoted(&self) -> &str {
        self.name()
    }
}
#[doc = "The unique keys of [`Order`], one per unique index: the conflict target of an upsert (`Repo::upsert`, `batch::upsert_many`, `query::upsert`)."]
#[allow(dead_code)]
#[derive(
    :: core :: fmt :: Debug,
    :: core :: clone :: Clone,
    :: core :: marker :: Copy,
    :: core :: cmp :: PartialEq,
    :: core :: cmp :: Eq,
    :: core :: hash :: Hash,
)]
pub enum OrderKey {
    #[doc = "The unique index `idx_orders_reference_unique` on (reference)."]
    Reference,
}
impl ::ordinance::UniqueKey for OrderKey {
    fn index_position(self) -> usize {
        match self {
            OrderKey::Reference => 1usize,
        }
    }
}
#[doc = "The keyset orders of [`Order`], one per `keyset(...)`: what `Pager::order` takes."]
#[allow(dead_code)]
#[derive(
    :: core :: fmt :: Debug,
    :: core :: clone :: Clone,
    :: core :: marker :: Copy,
    :: core :: cmp :: PartialEq,
    :: core :: cmp :: Eq,
    :: core :: hash :: Hash,
)]
pub enum OrderOrder {
    #[doc = "Pages by `created_at desc, id desc`."]
    CreatedAtDesc,
}
impl ::ordinance::KeysetOrder for OrderOrder {
    const ALL: &'static [Self] = &[OrderOrder::CreatedAtDesc];
    fn position(self) -> usize {
        match self {
            OrderOrder::CreatedAtDesc => 0usize,
        }
    }
    fn name(self) -> &'static str {
        match self {
            OrderOrder::CreatedAtDesc => "created_at_desc",
        }
    }
}
const _ : () = :: core :: assert ! (! < Customer as :: ordinance :: Entity > :: TENANT , "\"customer_id\" of \"orders\" references a tenant table, but \"orders\" is not one: row-level security keeps each tenant's rows apart, and a shared row pointing into one tenant's rows breaks that. Make \"orders\" a tenant table (#[entity(tenant)] and a `tenant_id: Uuid` field), or waive the rule with a reason: #[column(references = ..., exempt(tenant_reference = \"why\"))]") ;
::ordinance::__private::inventory::submit! { :: ordinance :: __private :: Registered (< Order as :: ordinance :: Entity > :: SCHEMA) }
impl ::ordinance::Entity for Order {
    const TABLE: &'static str = "orders";
    const SCHEMA_NAME: ::core::option::Option<&'static str> = ::core::option::Option::None;
    const TENANT: bool = false;
    type Column = OrderColumn;
    const SCHEMA: &'static ::ordinance::__private::TableSchema =
        &::ordinance::__private::TableSchema {
            schema: <Self as ::ordinance::Entity>::SCHEMA_NAME,
            name: "orders",
            struct_name: "Order",
            comment: ::core::option::Option::Some("What a customer bought."),
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
                    name: "customer_id",
                    renamed_from: ::core::option::Option::None,
                    field: "customer_id",
                    sql_type: <Uuid as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: <Uuid as ::ordinance::__private::ColumnType>::DEFAULT,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "reference",
                    renamed_from: ::core::option::Option::None,
                    field: "reference",
                    sql_type: <String as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: <String as ::ordinance::__private::ColumnType>::DEFAULT,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "status",
                    renamed_from: ::core::option::Option::None,
                    field: "status",
                    sql_type: <OrderStatus as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: <OrderStatus as ::ordinance::__private::ColumnType>::DEFAULT,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "total",
                    renamed_from: ::core::option::Option::None,
                    field: "total",
                    sql_type: ::ordinance::__private::SqlType::Numeric {
                        precision: ::core::option::Option::Some(12u16),
                        scale: ::core::option::Option::Some(2u16),
                    },
                    nullable: false,
                    default: <Decimal as ::ordinance::__private::ColumnType>::DEFAULT,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "lines",
                    renamed_from: ::core::option::Option::None,
                    field: "lines",
                    sql_type: <serde_json::Value as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: <serde_json::Value as ::ordinance::__private::ColumnType>::DEFAULT,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "tags",
                    renamed_from: ::core::option::Option::None,
                    field: "tags",
                    sql_type: <Vec<String> as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: <Vec<String> as ::ordinance::__private::ColumnType>::DEFAULT,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "is_gift",
                    renamed_from: ::core::option::Option::None,
                    field: "is_gift",
                    sql_type: <bool as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: false,
                    default: <bool as ::ordinance::__private::ColumnType>::DEFAULT,
                    backfill: ::core::option::Option::None,
                    comment: ::core::option::Option::None,
                    waivers: &[],
                    sensitive: false,
                },
                ::ordinance::__private::Column {
                    name: "shipped_on",
                    renamed_from: ::core::option::Option::None,
                    field: "shipped_on",
                    sql_type: <NaiveDate as ::ordinance::__private::ColumnType>::SQL_TYPE,
                    nullable: true,
                    default: ::core::option::Option::None,
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
            primary_key: "orders_pkey",
            foreign_keys: &[::ordinance::__private::ForeignKey {
                name: "orders_customer_id_fkey",
                column: "customer_id",
                references: <Customer as ::ordinance::Entity>::TABLE,
                references_schema: <Customer as ::ordinance::Entity>::SCHEMA_NAME,
                on_delete: ::ordinance::__private::OnDelete::Cascade,
                within_tenant: false,
                aggregate: false,
            }],
            checks: &[
                ::ordinance::__private::Check {
                    name: "orders_reference_max_length",
                    column: "reference",
                    kind: ::ordinance::__private::CheckKind::MaxLength(40u32),
                },
                ::ordinance::__private::Check {
                    name: "orders_status_valid",
                    column: "status",
                    kind: ::ordinance::__private::CheckKind::OneOf(
                        <OrderStatus as ::ordinance::__private::ColumnType>::ALLOWED_VALUES,
                    ),
                },
                ::ordinance::__private::Check {
                    name: "orders_total_min",
                    column: "total",
                    kind: ::ordinance::__private::CheckKind::Min(0i64),
                },
                ::ordinance::__private::Check {
                    name: "orders_tags_no_nulls",
                    column: "tags",
                    kind: ::ordinance::__private::CheckKind::NoNullElements,
                },
                ::ordinance::__private::Check {
                    name: "orders_version_min",
                    column: "version",
                    kind: ::ordinance::__private::CheckKind::Min(1i64),
                },
            ],
            indexes: &[
                ::ordinance::__private::Index {
                    name: "idx_orders_customer_id",
                    columns: &[::ordinance::__private::IndexColumn {
                        name: "customer_id",
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
                    name: "idx_orders_reference_unique",
                    columns: &[::ordinance::__private::IndexColumn {
                        name: "reference",
                        descending: false,
                        function: ::core::option::Option::None,
                    }],
                    unique: true,
                    live_only: true,
                    method: ::ordinance::__private::IndexMethod::BTree,
                    include: &[],
                    predicate: &[],
                },
                ::ordinance::__private::Index {
                    name: "idx_orders_created_at_id",
                    columns: &[
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
                    name: "idx_orders_status_created_at",
                    columns: &[
                        ::ordinance::__private::IndexColumn {
                            name: "status",
                            descending: false,
                            function: ::core::option::Option::None,
                        },
                        ::ordinance::__private::IndexColumn {
                            name: "created_at",
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
            ],
            keysets: &[&[
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
            tenant: false,
            history: false,
            aggregate_root: false,
            outbox: false,
            partitioned: ::core::option::Option::None,
            conventions: &::ordinance::__private::Conventions::DEFAULT,
        };
    type New = NewOrder;
    type Key = OrderKey;
    type Order = OrderOrder;
    type Patch = OrderPatch;
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
            customer_id: ::ordinance::__private::decode(
                row,
                offset,
                1usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            reference: ::ordinance::__private::decode(
                row,
                offset,
                2usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            status: ::ordinance::__private::decode(
                row,
                offset,
                3usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            total: ::ordinance::__private::decode(
                row,
                offset,
                4usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            lines: ::ordinance::__private::decode(
                row,
                offset,
                5usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            tags: ::ordinance::__private::decode(
                row,
                offset,
                6usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            is_gift: ::ordinance::__private::decode(
                row,
                offset,
                7usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            shipped_on: ::ordinance::__private::decode(
                row,
                offset,
                8usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            created_at: ::ordinance::__private::decode(
                row,
                offset,
                9usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            updated_at: ::ordinance::__private::decode(
                row,
                offset,
                10usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            deleted_at: ::ordinance::__private::decode(
                row,
                offset,
                11usize,
                <Self as ::ordinance::Entity>::SCHEMA,
            )?,
            version: ::ordinance::__private::decode(
                row,
                offset,
                12usize,
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
            &self.customer_id as ::ordinance::__private::SqlParam<'_>,
            &self.reference as ::ordinance::__private::SqlParam<'_>,
            &self.status as ::ordinance::__private::SqlParam<'_>,
            &self.total as ::ordinance::__private::SqlParam<'_>,
            &self.lines as ::ordinance::__private::SqlParam<'_>,
            &self.tags as ::ordinance::__private::SqlParam<'_>,
            &self.is_gift as ::ordinance::__private::SqlParam<'_>,
            &self.shipped_on as ::ordinance::__private::SqlParam<'_>,
        ]);
    }
    fn check_values(&self) -> ::ordinance::__private::Result<()> {
        let mut checker =
            ::ordinance::__private::Checker::new(<Self as ::ordinance::Entity>::SCHEMA);
        checker.field(
            &self.reference,
            2usize,
            ::ordinance::__private::Limits {
                min_len: ::core::option::Option::None,
                max_len: ::core::option::Option::Some(40u32),
                min: ::core::option::Option::None,
                max: ::core::option::Option::None,
            },
        );
        checker.field(
            &self.total,
            4usize,
            ::ordinance::__private::Limits {
                min_len: ::core::option::Option::None,
                max_len: ::core::option::Option::None,
                min: ::core::option::Option::Some(0i64),
                max: ::core::option::Option::None,
            },
        );
        checker.finish()
    }
}
#[doc = "A [`Order`] to insert: its business columns. The id (UUIDv7 unless given), timestamps, version and soft-delete marker are filled in by the kit and the database."]
pub struct NewOrder {
    pub customer_id: Uuid,
    pub reference: String,
    pub status: OrderStatus,
    pub total: Decimal,
    pub lines: serde_json::Value,
    pub tags: Vec<String>,
    pub is_gift: bool,
    pub shipped_on: Option<NaiveDate>,
}
impl ::core::clone::Clone for NewOrder
where
    for<'__o> Uuid: ::core::clone::Clone,
    for<'__o> String: ::core::clone::Clone,
    for<'__o> OrderStatus: ::core::clone::Clone,
    for<'__o> Decimal: ::core::clone::Clone,
    for<'__o> serde_json::Value: ::core::clone::Clone,
    for<'__o> Vec<String>: ::core::clone::Clone,
    for<'__o> bool: ::core::clone::Clone,
    for<'__o> Option<NaiveDate>: ::core::clone::Clone,
{
    fn clone(&self) -> Self {
        NewOrder {
            customer_id: ::core::clone::Clone::clone(&self.customer_id),
            reference: ::core::clone::Clone::clone(&self.reference),
            status: ::core::clone::Clone::clone(&self.status),
            total: ::core::clone::Clone::clone(&self.total),
            lines: ::core::clone::Clone::clone(&self.lines),
            tags: ::core::clone::Clone::clone(&self.tags),
            is_gift: ::core::clone::Clone::clone(&self.is_gift),
            shipped_on: ::core::clone::Clone::clone(&self.shipped_on),
        }
    }
}
impl ::core::fmt::Debug for NewOrder
where
    for<'__o> Uuid: ::core::fmt::Debug,
    for<'__o> String: ::core::fmt::Debug,
    for<'__o> OrderStatus: ::core::fmt::Debug,
    for<'__o> Decimal: ::core::fmt::Debug,
    for<'__o> serde_json::Value: ::core::fmt::Debug,
    for<'__o> Vec<String>: ::core::fmt::Debug,
    for<'__o> bool: ::core::fmt::Debug,
    for<'__o> Option<NaiveDate>: ::core::fmt::Debug,
{
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("NewOrder")
            .field("customer_id", &self.customer_id)
            .field("reference", &self.reference)
            .field("status", &self.status)
            .field("total", &self.total)
            .field("lines", &self.lines)
            .field("tags", &self.tags)
            .field("is_gift", &self.is_gift)
            .field("shipped_on", &self.shipped_on)
            .finish()
    }
}
impl ::ordinance::NewEntity for NewOrder {
    type Entity = Order;
    fn bind_business<'a>(&'a self, out: &mut ::ordinance::__private::Params<'a>) {
        out.extend_from_slice(&[
            &self.customer_id as ::ordinance::__private::SqlParam<'_>,
            &self.reference as ::ordinance::__private::SqlParam<'_>,
            &self.status as ::ordinance::__private::SqlParam<'_>,
            &self.total as ::ordinance::__private::SqlParam<'_>,
            &self.lines as ::ordinance::__private::SqlParam<'_>,
            &self.tags as ::ordinance::__private::SqlParam<'_>,
            &self.is_gift as ::ordinance::__private::SqlParam<'_>,
            &self.shipped_on as ::ordinance::__private::SqlParam<'_>,
        ]);
    }
    fn check_values(&self) -> ::ordinance::__private::Result<()> {
        let mut checker =
            ::ordinance::__private::Checker::new(<Order as ::ordinance::Entity>::SCHEMA);
        checker.field(
            &self.reference,
            2usize,
            ::ordinance::__private::Limits {
                min_len: ::core::option::Option::None,
                max_len: ::core::option::Option::Some(40u32),
                min: ::core::option::Option::None,
                max: ::core::option::Option::None,
            },
        );
        checker.field(
            &self.total,
            4usize,
            ::ordinance::__private::Limits {
                min_len: ::core::option::Option::None,
                max_len: ::core::option::Option::None,
                min: ::core::option::Option::Some(0i64),
                max: ::core::option::Option::None,
            },
        );
        checker.finish()
    }
}
#[doc = "Changes to a [`Order`]: each business column it sets (`Some`) is written by `Repo::patch`, checked against the version the caller saw; the others are left as they are. The id, timestamps, version and soft-delete marker are the kit's."]
#[derive(:: core :: default :: Default)]
pub struct OrderPatch {
    #[doc = ""]
    #[doc = "`None` leaves the column as it is."]
    pub customer_id: ::core::option::Option<Uuid>,
    #[doc = ""]
    #[doc = "`None` leaves the column as it is."]
    pub reference: ::core::option::Option<String>,
    #[doc = ""]
    #[doc = "`None` leaves the column as it is."]
    pub status: ::core::option::Option<OrderStatus>,
    #[doc = ""]
    #[doc = "`None` leaves the column as it is."]
    pub total: ::core::option::Option<Decimal>,
    #[doc = ""]
    #[doc = "`None` leaves the column as it is."]
    pub lines: ::core::option::Option<serde_json::Value>,
    #[doc = ""]
    #[doc = "`None` leaves the column as it is."]
    pub tags: ::core::option::Option<Vec<String>>,
    #[doc = ""]
    #[doc = "`None` leaves the column as it is."]
    pub is_gift: ::core::option::Option<bool>,
    #[doc = ""]
    #[doc = "`None` leaves the column as it is; `Some(None)` sets it to NULL."]
    pub shipped_on: ::core::option::Option<Option<NaiveDate>>,
}
impl ::core::clone::Clone for OrderPatch
where
    for<'__o> Uuid: ::core::clone::Clone,
    for<'__o> String: ::core::clone::Clone,
    for<'__o> OrderStatus: ::core::clone::Clone,
    for<'__o> Decimal: ::core::clone::Clone,
    for<'__o> serde_json::Value: ::core::clone::Clone,
    for<'__o> Vec<String>: ::core::clone::Clone,
    for<'__o> bool: ::core::clone::Clone,
    for<'__o> Option<NaiveDate>: ::core::clone::Clone,
{
    fn clone(&self) -> Self {
        OrderPatch {
            customer_id: ::core::clone::Clone::clone(&self.customer_id),
            reference: ::core::clone::Clone::clone(&self.reference),
            status: ::core::clone::Clone::clone(&self.status),
            total: ::core::clone::Clone::clone(&self.total),
            lines: ::core::clone::Clone::clone(&self.lines),
            tags: ::core::clone::Clone::clone(&self.tags),
            is_gift: ::core::clone::Clone::clone(&self.is_gift),
            shipped_on: ::core::clone::Clone::clone(&self.shipped_on),
        }
    }
}
impl ::core::fmt::Debug for OrderPatch
where
    for<'__o> Uuid: ::core::fmt::Debug,
    for<'__o> String: ::core::fmt::Debug,
    for<'__o> OrderStatus: ::core::fmt::Debug,
    for<'__o> Decimal: ::core::fmt::Debug,
    for<'__o> serde_json::Value: ::core::fmt::Debug,
    for<'__o> Vec<String>: ::core::fmt::Debug,
    for<'__o> bool: ::core::fmt::Debug,
    for<'__o> Option<NaiveDate>: ::core::fmt::Debug,
{
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("OrderPatch")
            .field("customer_id", &self.customer_id)
            .field("reference", &self.reference)
            .field("status", &self.status)
            .field("total", &self.total)
            .field("lines", &self.lines)
            .field("tags", &self.tags)
            .field("is_gift", &self.is_gift)
            .field("shipped_on", &self.shipped_on)
            .finish()
    }
}
impl ::ordinance::Patch for OrderPatch {
    type Entity = Order;
    fn bind_set<'a>(
        &'a self,
        set: &mut ::ordinance::__private::ColumnSet,
        out: &mut ::ordinance::__private::Params<'a>,
    ) {
        ::ordinance::__private::patch_field(&self.customer_id, 0usize, set, out);
        ::ordinance::__private::patch_field(&self.reference, 1usize, set, out);
        ::ordinance::__private::patch_field(&self.status, 2usize, set, out);
        ::ordinance::__private::patch_field(&self.total, 3usize, set, out);
        ::ordinance::__private::patch_field(&self.lines, 4usize, set, out);
        ::ordinance::__private::patch_field(&self.tags, 5usize, set, out);
        ::ordinance::__private::patch_field(&self.is_gift, 6usize, set, out);
        ::ordinance::__private::patch_field(&self.shipped_on, 7usize, set, out);
    }
    fn is_empty(&self) -> bool {
        true && self.customer_id.is_none()
            && self.reference.is_none()
            && self.status.is_none()
            && self.total.is_none()
            && self.lines.is_none()
            && self.tags.is_none()
            && self.is_gift.is_none()
            && self.shipped_on.is_none()
    }
    fn check_values(&self) -> ::ordinance::__private::Result<()> {
        let mut checker =
            ::ordinance::__private::Checker::new(<Order as ::ordinance::Entity>::SCHEMA);
        if let ::core::option::Option::Some(value) = &self.reference {
            checker.field(
                value,
                2usize,
                ::ordinance::__private::Limits {
                    min_len: ::core::option::Option::None,
                    max_len: ::core::option::Option::Some(40u32),
                    min: ::core::option::Option::None,
                    max: ::core::option::Option::None,
                },
            );
        }
        if let ::core::option::Option::Some(value) = &self.total {
            checker.field(
                value,
                4usize,
                ::ordinance::__private::Limits {
                    min_len: ::core::option::Option::None,
                    max_len: ::core::option::Option::None,
                    min: ::core::option::Option::Some(0i64),
                    max: ::core::option::Option::None,
                },
            );
        }
        checker.finish()
    }
}
impl Order {
    #[doc = "`customer_id` as a relation. Belongs-to: each `Order`'s `Customer`; has-many: each `Customer` has its `Order`s."]
    pub const CUSTOMER: ::ordinance::relation::Relation<
        Order,
        Customer,
        ::ordinance::relation::Many,
    > = ::ordinance::relation::Relation::new("customer_id", |row: &Order| {
        ::core::convert::Into::into(row.customer_id)
    });
}
