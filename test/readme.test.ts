/**
 * The README and the package manifests as a user meets them on the registry's
 * page: links that resolve from there (absolute, to files that exist in this
 * repository), the Effect major and the install line that resolves, the
 * versions docs/testing.md names, and where to report a bug.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "..")
const read = (path: string) => readFileSync(join(root, path), "utf8")
const readme = read("README.md")
const REPOSITORY = "https://github.com/effect-retry/effect-retry"

interface Manifest {
  readonly repository?: { readonly url?: string; readonly directory?: string }
  readonly homepage?: string
  readonly bugs?: { readonly url?: string }
  readonly devDependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
}
const manifest = (path: string) => JSON.parse(read(path)) as Manifest

describe("README", () => {
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!)

  it("links only absolutely (npm's page has no docs/ folder), and to files that exist", () => {
    expect(links.length).toBeGreaterThan(10)
    for (const link of links) expect(link, link).toMatch(/^https:\/\//)
    for (const link of links.filter((l) => l.startsWith(`${REPOSITORY}/blob/main/`))) {
      const path = link.slice(`${REPOSITORY}/blob/main/`.length).replace(/#.*$/, "")
      expect(existsSync(join(root, path)), link).toBe(true)
    }
  })

  it("names the Effect major it supports, installs with it, and says what Effect 4 users should do", () => {
    const peer = manifest("package.json").peerDependencies?.["effect"]
    expect(peer).toMatch(/^\^3\./)
    expect(readme).toContain("npm install effect-retry effect@^3.22")
    expect(readme).not.toMatch(/npm install effect-retry effect\s*$/m)
    expect(readme).toContain("supports **Effect 3**")
    expect(readme).toContain("On Effect 4 today")
  })

  it("says how long npm test takes", () => {
    expect(readme).toMatch(/`npm test` took \d+ min(utes)?( \d+ s)? /)
  })
})

describe("docs/testing.md", () => {
  it("names the test packages with the versions that resolve next to Effect 3, as package.json has them", () => {
    const doc = read("docs/testing.md")
    expect(doc).toContain("npm install -D vitest@^3 @effect/vitest@^0.30")
    const dev = manifest("package.json").devDependencies ?? {}
    expect(dev["vitest"]).toMatch(/^\^3\./)
    expect(dev["@effect/vitest"]).toMatch(/^\^0\.30\./)
  })
})

describe("package.json", () => {
  it.each(["package.json", "cli/package.json"])("%s says where the code lives and where bugs go", (path) => {
    const { bugs, homepage, repository } = manifest(path)
    expect(repository?.url).toBe(`git+${REPOSITORY}.git`)
    expect(homepage).toMatch(new RegExp(`^${REPOSITORY}`))
    expect(bugs?.url).toBe(`${REPOSITORY}/issues`)
  })
})
