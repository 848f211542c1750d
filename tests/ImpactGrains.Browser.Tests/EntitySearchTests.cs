using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImpactGrains.Browser.Tests;

/// <summary>The header's entity search on the demo data: suggestions as one types, Enter opens the entity meant.</summary>
[Collection(DemoCollection.Name)]
public sealed class EntitySearchTests(DemoFixture fixture)
{
    [Fact]
    public async Task A_name_typed_in_the_header_suggests_entities_and_opens_the_one_meant()
    {
        await using var session = await fixture.Browser.OpenAsync(fixture.Server);
        var page = session.Page;
        await page.GotoAsync("/#/groups");
        var input = page.GetByRole(AriaRole.Combobox, new() { Name = "Find an entity by name or id" }); // a search field with suggestions

        // Suggestions come from the paged search of the API: "mus" finds Elon Musk by name.
        await input.FillAsync("mus");
        await Expect(page.Locator("#entity-search-options option[value='elon-musk']")).ToHaveCountAsync(1);

        // A name, whatever its case, opens that entity's page, and the search is cleared.
        await input.FillAsync("tesla");
        await input.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("#/entity/tesla$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Tesla");
        await Expect(input).ToHaveValueAsync("");

        // Nothing matches: said next to the field, and the page stays.
        await input.FillAsync("no-such-company");
        await input.PressAsync("Enter");
        await Expect(page.Locator("#entity-search-error")).ToHaveTextAsync("No entity matches 'no-such-company'.");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("#/entity/tesla$"));

        // Several match: the viewer asks to pick one rather than guessing ("x" is in several ids and names).
        await input.FillAsync("s");
        await input.PressAsync("Enter");
        await Expect(page.Locator("#entity-search-error")).ToContainTextAsync("entities match 's': pick one from the list.");
        session.AssertNoErrors();
    }
}
