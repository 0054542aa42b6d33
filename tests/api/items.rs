//! Create, get, update and delete: validation, uniqueness, audit fields.

use crate::assertions::{expect_error, expect_invalid, is_after};
use crate::helpers::{Identity, TestApp};
use crate::resources::{Changes, ListParams, Resource};
use numbering::proto::v1::Status as WireStatus;
use tonic::Code;
use uuid::Uuid;

const ACTIVE: i32 = WireStatus::Active as i32;
const RESERVED: i32 = WireStatus::Reserved as i32;

async fn live_count<R: Resource>(api: &R) -> u32 {
    let pages = api
        .list(&Identity::admin(), ListParams::default())
        .await
        .unwrap();
    pages[0].meta.total
}

pub async fn a_new_item_is_active_in_the_shared_pool_with_audit_fields<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();

    let item = api
        .create(&admin, &R::value(1), "MA", Some("main line"), 0)
        .await
        .unwrap();

    let id = Uuid::parse_str(&item.id).expect("the id is a UUID");
    assert_eq!(id.get_version_num(), 7);
    assert_eq!(
        (item.value.as_str(), item.country.as_str()),
        (R::value(1).as_str(), "MA")
    );
    assert_eq!(item.description.as_deref(), Some("main line"));
    assert!(item.is_shared);
    assert_eq!(item.organization_id, None);
    assert_eq!(item.status, ACTIVE);
    assert!(item.created_at.is_some());
    assert_eq!(item.created_at, item.updated_at);
    assert_eq!(item.deleted_at, None);
    let admin_id = Some(admin.user_id.to_string());
    assert_eq!((&item.created_by, &item.updated_by), (&admin_id, &admin_id));
    assert_eq!(item.deleted_by, None);
}

pub async fn create_keeps_the_value_as_given_and_upper_cases_the_country<R: Resource>(
    app: &TestApp,
) {
    let api = R::new(app);
    let value = R::same_value_spelled_otherwise(&R::value(2));

    let item = api
        .create(&Identity::admin(), &value, "us", None, RESERVED)
        .await
        .unwrap();

    assert_eq!(
        (item.value.as_str(), item.country.as_str()),
        (value.as_str(), "US")
    );
    assert_eq!(item.status, RESERVED);
}

pub async fn what_create_returns_is_what_get_reads_back_to_the_microsecond<R: Resource>(
    app: &TestApp,
) {
    let api = R::new(app);
    let created = api.seed(1, "MA").await;

    let read = api.get(&Identity::admin(), &created.id).await.unwrap();

    assert_eq!(read, created);
}

pub async fn create_refuses_each_invalid_field_by_name_and_writes_nothing<R: Resource>(
    app: &TestApp,
) {
    let api = R::new(app);
    let admin = Identity::admin();
    for value in R::invalid_values() {
        expect_invalid(
            api.create(&admin, &value, "MA", None, 0).await,
            R::VALUE_FIELD,
        );
    }
    for country in ["XX", "", "MAR", "1A"] {
        expect_invalid(
            api.create(&admin, &R::value(1), country, None, 0).await,
            "country",
        );
    }
    let too_long = "é".repeat(501);
    expect_invalid(
        api.create(&admin, &R::value(1), "MA", Some(&too_long), 0)
            .await,
        "description",
    );
    // PostgreSQL cannot store NUL in text: refused on every engine alike.
    expect_invalid(
        api.create(&admin, &R::value(1), "MA", Some("a\0b"), 0)
            .await,
        "description",
    );
    expect_invalid(
        api.create(&admin, &R::value(1), "MA", None, 42).await,
        "status",
    );

    assert_eq!(live_count(&api).await, 0);
    let longest = "é".repeat(500);
    api.create(&admin, &R::value(1), "MA", Some(&longest), 0)
        .await
        .expect("500 characters fit");
}

pub async fn a_value_in_use_is_already_exists_however_it_is_spelled<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    api.seed(1, "MA").await;

    for value in [R::value(1), R::same_value_spelled_otherwise(&R::value(1))] {
        expect_error(
            api.create(&admin, &value, "MA", None, 0).await,
            Code::AlreadyExists,
            R::TAKEN_REASON,
        );
    }
    assert_eq!(live_count(&api).await, 1);
}

pub async fn uniqueness_is_per_country_only_for_sender_ids<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    api.seed(1, "MA").await;

    let elsewhere = api
        .create(&Identity::admin(), &R::value(1), "FR", None, 0)
        .await;

    if R::UNIQUE_PER_COUNTRY {
        elsewhere.expect("the same sender id is free in another country");
    } else {
        expect_error(elsewhere, Code::AlreadyExists, R::TAKEN_REASON);
    }
}

pub async fn a_deleted_item_frees_its_value_for_reuse<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let first = api.seed(1, "MA").await;
    api.delete(&admin, &first.id).await.unwrap();

    let second = api
        .create(&admin, &R::value(1), "MA", None, 0)
        .await
        .expect("the value is free again");

    assert_ne!(second.id, first.id);
}

pub async fn get_of_an_unknown_id_is_not_found_and_of_a_malformed_id_invalid<R: Resource>(
    app: &TestApp,
) {
    let api = R::new(app);
    let admin = Identity::admin();

    expect_error(
        api.get(&admin, &Uuid::now_v7().to_string()).await,
        Code::NotFound,
        R::NOT_FOUND_REASON,
    );
    expect_invalid(api.get(&admin, "not-a-uuid").await, "id");
}

pub async fn update_changes_only_the_fields_it_sets<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let created = api
        .create(&Identity::admin(), &R::value(1), "MA", Some("old"), 0)
        .await
        .unwrap();
    let editor = Identity::admin();

    let updated = api
        .update(
            &editor,
            &created.id,
            Changes {
                status: Some(RESERVED),
                country: Some("fr".into()),
                ..Changes::default()
            },
        )
        .await
        .unwrap();

    assert_eq!((updated.status, updated.country.as_str()), (RESERVED, "FR"));
    assert_eq!(
        (&updated.value, updated.description.as_deref()),
        (&created.value, Some("old"))
    );
    assert_eq!(updated.created_at, created.created_at);
    assert!(is_after(&updated.updated_at, &created.updated_at));
    assert_eq!(updated.created_by, created.created_by);
    assert_eq!(updated.updated_by, Some(editor.user_id.to_string()));
    assert_eq!(api.get(&editor, &created.id).await.unwrap(), updated);
}

pub async fn update_that_changes_nothing_leaves_updated_at<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let created = api.seed(1, "MA").await;

    let same = Changes {
        value: Some(created.value.clone()),
        status: Some(ACTIVE),
        ..Changes::default()
    };
    let updated = api
        .update(&Identity::admin(), &created.id, same)
        .await
        .unwrap();

    assert_eq!(updated, created);
}

pub async fn update_with_an_empty_description_clears_it<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let created = api
        .create(&Identity::admin(), &R::value(1), "MA", Some("temporary"), 0)
        .await
        .unwrap();

    let cleared = Changes {
        description: Some(String::new()),
        ..Changes::default()
    };
    let updated = api
        .update(&Identity::admin(), &created.id, cleared)
        .await
        .unwrap();

    assert_eq!(updated.description, None);
    assert_eq!(
        api.get(&Identity::admin(), &created.id)
            .await
            .unwrap()
            .description,
        None
    );
}

pub async fn update_refuses_invalid_fields_and_a_value_in_use<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    api.seed(1, "MA").await;
    let other = api.seed(2, "MA").await;

    let bad_value = Changes {
        value: Some(R::invalid_values()[1].clone()),
        ..Changes::default()
    };
    expect_invalid(
        api.update(&admin, &other.id, bad_value).await,
        R::VALUE_FIELD,
    );
    let bad_country = Changes {
        country: Some("XX".into()),
        ..Changes::default()
    };
    expect_invalid(api.update(&admin, &other.id, bad_country).await, "country");
    let nul = Changes {
        description: Some("a\0b".into()),
        ..Changes::default()
    };
    expect_invalid(api.update(&admin, &other.id, nul).await, "description");
    let unspecified = Changes {
        status: Some(0),
        ..Changes::default()
    };
    expect_invalid(api.update(&admin, &other.id, unspecified).await, "status");
    let taken = Changes {
        value: Some(R::same_value_spelled_otherwise(&R::value(1))),
        ..Changes::default()
    };
    expect_error(
        api.update(&admin, &other.id, taken).await,
        Code::AlreadyExists,
        R::TAKEN_REASON,
    );

    assert_eq!(api.get(&admin, &other.id).await.unwrap(), other);
}

pub async fn delete_is_soft_and_records_who_and_when<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let created = api.seed(1, "MA").await;
    let deleter = Identity::admin();

    let deleted = api.delete(&deleter, &created.id).await.unwrap();

    assert!(deleted.deleted_at.is_some());
    assert_eq!(deleted.deleted_by, Some(deleter.user_id.to_string()));
    assert_eq!(deleted.updated_at, deleted.deleted_at);
    assert_eq!(
        api.get(&Identity::accountant(), &created.id).await.unwrap(),
        deleted
    );
}

pub async fn writes_to_a_deleted_item_are_not_found<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    let item = api.seed(1, "MA").await;
    api.delete(&admin, &item.id).await.unwrap();
    let not_found = |result| {
        expect_error(result, Code::NotFound, R::NOT_FOUND_REASON);
    };

    not_found(api.delete(&admin, &item.id).await);
    not_found(
        api.update(
            &admin,
            &item.id,
            Changes {
                status: Some(RESERVED),
                ..Changes::default()
            },
        )
        .await,
    );
    not_found(
        api.assign(&admin, &item.id, &Uuid::now_v7().to_string())
            .await,
    );
    not_found(api.unassign(&admin, &item.id).await);
}

/// A request with several bad fields names every one of them, in the
/// order of the message, in one `BadRequest`; the message starts with the
/// first.
pub async fn every_bad_field_is_named_at_once<R: Resource>(app: &TestApp) {
    use tonic_types::StatusExt;
    let api = R::new(app);
    let admin = Identity::admin();
    let bad_value = R::invalid_values().into_iter().next().unwrap();
    let too_long = "x".repeat(501);
    let status = expect_error(
        api.create(&admin, &bad_value, "XX", Some(&too_long), 42)
            .await,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
    let fields: Vec<String> = status
        .get_error_details()
        .bad_request()
        .expect("a BadRequest")
        .field_violations
        .iter()
        .map(|violation| violation.field.clone())
        .collect();
    assert_eq!(fields, [R::VALUE_FIELD, "country", "description", "status"]);
    assert!(
        status
            .message()
            .starts_with(&format!("{}:", R::VALUE_FIELD))
    );
    assert!(status.message().contains("; country:"), "{status:?}");

    let changes = Changes {
        country: Some("XX".to_owned()),
        ..Changes::default()
    };
    let options = crate::resources::WriteOptions::request_id("not-a-uuid");
    let status = expect_error(
        api.update_with(&admin, "nope", changes, options).await,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
    let details = status.get_error_details();
    let fields: Vec<&str> = details
        .bad_request()
        .expect("a BadRequest")
        .field_violations
        .iter()
        .map(|violation| violation.field.as_str())
        .collect();
    assert_eq!(fields, ["id", "country", "request_id"]);
    assert_eq!(live_count(&api).await, 0, "nothing written");
}

/// Text is stored as sent on every engine: MariaDB's PAD SPACE collation
/// must not make a description of spaces equal to the empty string (it
/// was INTERNAL there), whether it comes by create, update or import.
pub async fn descriptions_of_whitespace_are_kept_as_sent<R: Resource>(app: &TestApp) {
    use crate::resources::ImportRow;
    let api = R::new(app);
    let admin = Identity::admin();
    let texts = [" ", "   ", "a ", " a", "\t", "\n", "\u{a0}"];
    for (n, text) in texts.iter().enumerate() {
        let n = n as u32;
        let created = api
            .create(&admin, &R::value(n), "MA", Some(text), 0)
            .await
            .unwrap_or_else(|status| panic!("{text:?}: {status:?}"));
        assert_eq!(created.description.as_deref(), Some(*text));
        let read = api.get(&admin, &created.id).await.unwrap();
        assert_eq!(read.description.as_deref(), Some(*text), "{text:?}");
        let changes = Changes {
            description: Some(format!("{text}{text}")),
            ..Changes::default()
        };
        let updated = api.update(&admin, &created.id, changes).await.unwrap();
        assert_eq!(updated.description, Some(format!("{text}{text}")));
    }
    // In a batch that is not atomic, the row of spaces is written beside
    // the others, and the stream ends well.
    let rows = vec![
        ImportRow::new(&R::value(100), "MA"),
        ImportRow {
            description: Some(" ".to_owned()),
            ..ImportRow::new(&R::value(101), "MA")
        },
    ];
    let replies = api.import(&admin, vec![(rows, false)]).await.unwrap();
    assert_eq!(replies[0].len(), 2);
    for row in &replies[0] {
        let Some(numbering::proto::v1::import_row_result::Result::Id(id)) = &row.result else {
            panic!("{row:?}");
        };
        let read = api.get(&admin, id).await.unwrap();
        assert!(read.description.as_deref().is_none_or(|d| d == " "));
    }
}

crate::for_both_resources!(
    every_bad_field_is_named_at_once,
    descriptions_of_whitespace_are_kept_as_sent,
    a_new_item_is_active_in_the_shared_pool_with_audit_fields,
    create_keeps_the_value_as_given_and_upper_cases_the_country,
    what_create_returns_is_what_get_reads_back_to_the_microsecond,
    create_refuses_each_invalid_field_by_name_and_writes_nothing,
    a_value_in_use_is_already_exists_however_it_is_spelled,
    uniqueness_is_per_country_only_for_sender_ids,
    a_deleted_item_frees_its_value_for_reuse,
    get_of_an_unknown_id_is_not_found_and_of_a_malformed_id_invalid,
    update_changes_only_the_fields_it_sets,
    update_that_changes_nothing_leaves_updated_at,
    update_with_an_empty_description_clears_it,
    update_refuses_invalid_fields_and_a_value_in_use,
    delete_is_soft_and_records_who_and_when,
    writes_to_a_deleted_item_are_not_found,
);
