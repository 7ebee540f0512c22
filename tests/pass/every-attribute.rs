// Every attribute key, on the struct and on fields, is accepted and lands in the schema.
use ordinance::prelude::*;
use ordinance::schema::{CheckKind, OnDelete};
use ordinance::Entity;

#[derive(Entity)]
pub struct Team {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Entity)]
#[entity(
    table = "staff_members",
    index(team_id, joined_on desc),
    unique(team_id, handle, name = "idx_staff_handle_per_team"),
    keyset(joined_on desc, id desc),
    keyset(score asc)
)]
pub struct Member {
    pub id: Uuid,
    #[column(references = Team, on_delete = "cascade")]
    pub team_id: Uuid,
    #[column(references = Team, on_delete = "set null", index_name = "idx_staff_previous_team")]
    pub previous_team_id: Option<Uuid>,
    #[column(references = Team, on_delete = "restrict")]
    pub home_team_id: Uuid,
    #[column(name = "handle", min_len = 2, max_len = 30)]
    pub nickname: String,
    #[column(unique)]
    pub badge_number: i64,
    #[column(index)]
    pub joined_on: NaiveDate,
    #[column(min = -10, max = 10)]
    pub score: i32,
    #[column(precision = 8, scale = 2, min = 0)]
    pub salary: Decimal,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {
    let s = Member::SCHEMA;
    assert_eq!(s.name, "staff_members");
    assert!(s.column("handle").is_some() && s.column("nickname").is_none());
    let fks: Vec<_> = s
        .foreign_keys
        .iter()
        .map(|f| (f.name, f.column, f.references, f.on_delete))
        .collect();
    assert_eq!(
        fks,
        [
            ("staff_members_team_id_fkey", "team_id", "teams", OnDelete::Cascade),
            ("staff_members_previous_team_id_fkey", "previous_team_id", "teams", OnDelete::SetNull),
            ("staff_members_home_team_id_fkey", "home_team_id", "teams", OnDelete::Restrict),
        ]
    );
    let checks: Vec<_> = s.checks.iter().map(|c| (c.name, c.kind)).collect();
    assert_eq!(
        checks,
        [
            ("staff_members_handle_min_length", CheckKind::MinLength(2)),
            ("staff_members_handle_max_length", CheckKind::MaxLength(30)),
            ("staff_members_score_min", CheckKind::Min(-10)),
            ("staff_members_score_max", CheckKind::Max(10)),
            ("staff_members_salary_min", CheckKind::Min(0)),
            ("staff_members_version_min", CheckKind::Min(1)),
        ]
    );
    let indexes: Vec<_> = s.indexes.iter().map(|i| (i.name, i.unique, i.live_only)).collect();
    assert_eq!(
        indexes,
        [
            ("idx_staff_members_team_id", false, false),
            ("idx_staff_previous_team", false, false),
            ("idx_staff_members_home_team_id", false, false),
            ("idx_staff_members_badge_number_unique", true, true),
            ("idx_staff_members_joined_on", false, true),
            ("idx_staff_members_team_id_joined_on", false, true),
            ("idx_staff_handle_per_team", true, true),
            ("idx_staff_members_joined_on_id", false, true),
            ("idx_staff_members_score_id", false, true),
        ]
    );
    // Keysets end in `id`; it is appended in the last column's direction when absent.
    let keysets: Vec<Vec<_>> = s
        .keysets
        .iter()
        .map(|k| k.iter().map(|c| (c.name, c.descending)).collect())
        .collect();
    assert_eq!(
        keysets,
        [
            vec![("joined_on", true), ("id", true)],
            vec![("score", false), ("id", false)],
        ]
    );
    assert_eq!(MemberColumn::Nickname.name(), "handle");
}
