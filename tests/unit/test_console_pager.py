"""The console's one pager (templates/console/_pager.html): the links keep the list's filters."""
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "survey" / "templates"


def render(source, **context):
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True).from_string(source).render(**context)


def test_the_pager_links_keep_the_filters_and_stop_at_the_ends():
    middle = render('{% include "console/_pager.html" %}', pages=3, page_no=2,
                    filters={"status": "assigned", "department": "市场", "page": 2})
    assert "第 2 / 3 页" in middle
    assert "?status=assigned&amp;department=%E5%B8%82%E5%9C%BA&amp;page=1" in middle
    assert "?status=assigned&amp;department=%E5%B8%82%E5%9C%BA&amp;page=3" in middle
    first = render('{% include "console/_pager.html" %}', pages=3, page_no=1, filters={})
    assert "上一页" not in first and "?page=2" in first
    assert render('{% include "console/_pager.html" %}', pages=1, page_no=1, filters={}).strip() == ""


def test_the_enterprise_list_pages_by_its_search():
    html = render('{% with filters = {"q": q} %}{% include "console/_pager.html" %}{% endwith %}',
                  pages=2, page_no=1, q="城关")
    assert "?q=%E5%9F%8E%E5%85%B3&amp;page=2" in html
