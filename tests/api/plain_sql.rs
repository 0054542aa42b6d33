//! Lists against a plain query of the same rows. The service answers
//! `total` from counts the database keeps, walks deep pages by id, and
//! searches through trigram indexes: each must give exactly what a scan of
//! the table gives, the same rows in the same order with the same total,
//! after creates, updates, assignments, unassignments and deletes.

use crate::helpers::{Identity, TestApp, organization};
use crate::resources::{AvailableParams, Changes, ListParams, Resource};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

const ACTIVE: i32 = 1;
const INACTIVE: i32 = 2;
const RESERVED: i32 = 3;
const DESC: i32 = 2;
/// A page size that splits every list into several pages.
const LIMIT: u32 = 4;

/// The table, queried directly.
struct Table {
    db: DatabaseConnection,
    name: &'static str,
    value: &'static str,
}

impl Table {
    async fn open<R: Resource>(app: &TestApp) -> Self {
        let (name, value) = match R::VALUE_FIELD {
            "number" => ("dids", "number"),
            _ => ("sender_ids", "sender_id"),
        };
        let db = Database::connect(app.database_url()).await.unwrap();
        Self { db, name, value }
    }

    fn uuid(&self, id: &str) -> String {
        let uuid = Uuid::parse_str(id).unwrap();
        match self.db.get_database_backend() {
            DbBackend::Postgres => format!("'{uuid}'::uuid"),
            _ => format!("X'{}'", uuid.simple()),
        }
    }

    /// The ids of the rows that `condition` keeps, in `order`, from `offset`
    /// on, at most `limit` of them.
    async fn ids(&self, condition: &str, order: &str, offset: u32, limit: u32) -> Vec<String> {
        let sql = format!(
            "SELECT id FROM {} WHERE {condition} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            self.name
        );
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
        rows.iter()
            .map(|row| row.try_get::<Uuid>("", "id").unwrap().to_string())
            .collect()
    }

    async fn all_ids(&self, condition: &str, order: &str) -> Vec<String> {
        self.ids(condition, order, 0, 1_000_000).await
    }
}

/// Forty-eight items in three countries and three statuses, two thirds with
/// a description; then assignments to two organizations, unassignments,
/// status and country changes, and deletes, all through the API.
async fn seed<R: Resource>(api: &R, organizations: [&str; 2]) {
    let admin = Identity::admin();
    for n in 0..48u32 {
        let country = ["MA", "FR", "US"][n as usize % 3];
        let description = (n % 3 != 0).then(|| format!("Line {n} Café"));
        let status = [ACTIVE, INACTIVE, RESERVED][(n / 3) as usize % 3];
        let item = api
            .create(
                &admin,
                &R::value(n),
                country,
                description.as_deref(),
                status,
            )
            .await
            .unwrap();
        if n % 4 != 0 {
            let holder = organizations[(n % 4 == 1) as usize];
            api.assign(&admin, &item.id, holder).await.unwrap();
        }
        if n % 8 == 3 {
            api.unassign(&admin, &item.id).await.unwrap();
        }
        if n % 5 == 0 {
            let changes = Changes {
                status: Some(INACTIVE),
                country: Some("MA".into()),
                ..Changes::default()
            };
            api.update(&admin, &item.id, changes).await.unwrap();
        }
        if n % 7 == 2 {
            api.delete(&admin, &item.id).await.unwrap();
        }
    }
}

/// A list's ids over every page, and the total its first page gave.
async fn listed<R: Resource>(api: &R, who: &Identity, params: ListParams) -> (Vec<String>, u32) {
    let pages = api.list(who, params).await.unwrap();
    let total = pages[0].meta.total;
    let ids = pages
        .iter()
        .flat_map(|page| &page.data)
        .map(|r| r.id.clone());
    (ids.collect(), total)
}

async fn lists_answer_what_a_plain_query_answers<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let (a, b) = (organization().to_string(), organization().to_string());
    seed(&api, [&a, &b]).await;
    let table = Table::open::<R>(app).await;
    let admin = Identity::admin();
    let newest_first = "created_at DESC, id DESC";

    // Every combination of the filters the kept counts answer.
    let statuses = [
        (None, None),
        (Some(ACTIVE), Some("active")),
        (Some(INACTIVE), Some("inactive")),
    ];
    let shared = [
        (None, None),
        (Some(true), Some("organization_id IS NULL")),
        (Some(false), Some("organization_id IS NOT NULL")),
    ];
    let holders = [
        (None, None),
        (
            Some(a.clone()),
            Some(format!("organization_id = {}", table.uuid(&a))),
        ),
    ];
    let countries: [&[&str]; 3] = [&[], &["MA"], &["MA", "FR"]];
    for (status, status_sql) in &statuses {
        for (is_shared, shared_sql) in &shared {
            for (holder, holder_sql) in &holders {
                for countries in countries {
                    for show_deleted in [false, true] {
                        let mut condition = vec!["1 = 1".to_owned()];
                        condition.extend(status_sql.map(|s| format!("status = '{s}'")));
                        condition.extend(shared_sql.map(String::from));
                        condition.extend(holder_sql.clone());
                        if !countries.is_empty() {
                            let quoted: Vec<_> =
                                countries.iter().map(|c| format!("'{c}'")).collect();
                            condition.push(format!("country IN ({})", quoted.join(", ")));
                        }
                        if !show_deleted {
                            condition.push("deleted_at IS NULL".into());
                        }
                        let condition = condition.join(" AND ");
                        let params = ListParams {
                            limit: LIMIT,
                            status: *status,
                            is_shared: *is_shared,
                            organization_id: holder.clone(),
                            countries: countries.iter().map(|c| c.to_string()).collect(),
                            show_deleted,
                            all_pages: true,
                            ..ListParams::default()
                        };
                        let expected = table.all_ids(&condition, newest_first).await;
                        let (ids, total) = listed(&api, &admin, params).await;
                        assert_eq!(ids, expected, "{condition}");
                        assert_eq!(total as usize, expected.len(), "total of {condition}");
                    }
                }
            }
        }
    }

    // Every sort, both ways, whole and from a page reached by offset.
    let columns = ["", table.value, "country", "status", "created_at"];
    for sort_by in 1..=4 {
        for (sort_order, direction) in [(1, "ASC"), (DESC, "DESC")] {
            let order = format!("{} {direction}, id {direction}", columns[sort_by as usize]);
            let params = ListParams {
                limit: LIMIT,
                sort_by,
                sort_order,
                show_deleted: true,
                ..ListParams::default()
            };
            let whole = ListParams {
                all_pages: true,
                ..params.clone()
            };
            let (ids, _) = listed(&api, &admin, whole).await;
            assert_eq!(ids, table.all_ids("1 = 1", &order).await, "{order}");
            let third = ListParams { page: 3, ..params };
            let (ids, total) = listed(&api, &admin, third).await;
            assert_eq!(
                ids,
                table.ids("1 = 1", &order, 2 * LIMIT, LIMIT).await,
                "page 3 by {order}"
            );
            assert_eq!(total, 48);
        }
    }

    // A reseller's lists: the shared pool and its own items, live ones only.
    let own = format!(
        "deleted_at IS NULL AND (organization_id IS NULL OR organization_id = {})",
        table.uuid(&a)
    );
    let reseller = Identity::reseller(a.parse().unwrap());
    for (status, status_sql) in &statuses {
        let condition = match status_sql {
            Some(s) => format!("{own} AND status = '{s}'"),
            None => own.clone(),
        };
        let params = ListParams {
            limit: LIMIT,
            status: *status,
            all_pages: true,
            ..ListParams::default()
        };
        let expected = table.all_ids(&condition, newest_first).await;
        let (ids, total) = listed(&api, &reseller, params).await;
        assert_eq!(
            (ids, total as usize),
            (expected.clone(), expected.len()),
            "{condition}"
        );
    }
    let available = format!("{own} AND status = 'active'");
    let pages = api
        .list_available(
            &reseller,
            AvailableParams {
                limit: LIMIT,
                sort_order: 1,
                all_pages: true,
                ..AvailableParams::default()
            },
        )
        .await
        .unwrap();
    let ids: Vec<_> = pages
        .iter()
        .flat_map(|p| &p.data)
        .map(|a| a.id.clone())
        .collect();
    let expected = table
        .all_ids(&available, &format!("{} ASC, id ASC", table.value))
        .await;
    assert_eq!(ids, expected, "available");
    assert_eq!(pages[0].meta.total as usize, expected.len());

    // Searches: long enough for trigrams and too short for them, on the
    // identifier and on the description ("café" is stored folded).
    let value_of_7 = R::value(7).to_lowercase();
    let middle = &value_of_7[3..8];
    // Quotes and FTS5 operators are text like any other.
    for search in [
        middle, "e 1", "cafe", "CAFÉ", "7", "zzz", r#"ne "1"#, "(1)*:^", "NEAR",
    ] {
        let folded = search.to_lowercase().replace('é', "e");
        let condition = format!(
            "(LOWER({value}) LIKE '%{folded}%' OR description_key LIKE '%{folded}%') \
             AND deleted_at IS NULL",
            value = table.value
        );
        let params = ListParams {
            limit: LIMIT,
            search: search.into(),
            all_pages: true,
            ..ListParams::default()
        };
        let expected = table.all_ids(&condition, newest_first).await;
        let (ids, total) = listed(&api, &admin, params).await;
        assert_eq!(
            (ids, total as usize),
            (expected.clone(), expected.len()),
            "search {search:?}"
        );
    }
    table.db.close().await.ok();
}

/// Sixteen writers at once, each creating, assigning, unassigning and
/// deleting: no write fails (the kept counts are updated in a fixed order,
/// so writers never deadlock on them), and every total stays exact.
async fn totals_stay_exact_under_concurrent_writes<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let holder = organization().to_string();
    let writers: Vec<_> = (0..16u32)
        .map(|writer| {
            let (api, holder) = (api.clone(), holder.clone());
            tokio::spawn(async move {
                let admin = Identity::admin();
                for step in 0..6u32 {
                    let country = ["MA", "FR"][step as usize % 2];
                    let value = R::value(1000 + writer * 10 + step);
                    let item = api.create(&admin, &value, country, None, 0).await.unwrap();
                    api.assign(&admin, &item.id, &holder).await.unwrap();
                    match step % 3 {
                        0 => drop(api.unassign(&admin, &item.id).await.unwrap()),
                        1 => drop(api.delete(&admin, &item.id).await.unwrap()),
                        _ => {}
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let table = Table::open::<R>(app).await;
    let held = format!("organization_id = {}", table.uuid(&holder));
    for (params, condition) in [
        (ListParams::default(), "deleted_at IS NULL".to_owned()),
        (
            ListParams {
                show_deleted: true,
                ..ListParams::default()
            },
            "1 = 1".into(),
        ),
        (
            ListParams {
                is_shared: Some(true),
                ..ListParams::default()
            },
            "organization_id IS NULL AND deleted_at IS NULL".into(),
        ),
        (
            ListParams {
                organization_id: Some(holder.clone()),
                show_deleted: true,
                ..ListParams::default()
            },
            held,
        ),
        (
            ListParams {
                countries: vec!["FR".into()],
                ..ListParams::default()
            },
            "country = 'FR' AND deleted_at IS NULL".into(),
        ),
    ] {
        let (_, total) = listed(&api, &Identity::admin(), params).await;
        let expected = table.all_ids(&condition, "id").await.len();
        assert_eq!(total as usize, expected, "{condition}");
    }
    table.db.close().await.ok();
}

crate::for_both_resources!(
    lists_answer_what_a_plain_query_answers,
    totals_stay_exact_under_concurrent_writes
);
