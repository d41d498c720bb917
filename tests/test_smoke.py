from tests import factories as f


def test_home_page_answers_in_italian(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="it"' in response.get_data(as_text=True)


def test_factories_build_a_consistent_world(app):
    f.make_ente()
    scheme = f.make_scheme()
    provider = f.make_provider()
    person = f.make_beneficiary()
    assert scheme.area == "A" and provider.status == "active" and person.birth_date
