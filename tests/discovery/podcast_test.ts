import assert from "node:assert/strict";
import { hashUrl } from "../../src/discovery/base.ts";
import { PodcastDiscovery, schema } from "../../src/discovery/podcast.ts";
import { reply, serveRoutes, testEnv } from "./_server.ts";

const PODCAST = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:media="http://search.yahoo.com/mrss/">
  <channel>
    <title>The Show</title>
    <itunes:author>Host Name</itunes:author>
    <itunes:image href="https://cdn.example.com/show.jpg"/>
    <itunes:explicit>no</itunes:explicit>
    <item>
      <title>Episode 12: Tides</title>
      <guid isPermaLink="false">show-ep-12</guid>
      <link>https://show.example.com/12</link>
      <pubDate>Wed, 10 Jan 2024 06:00:00 GMT</pubDate>
      <enclosure url="https://cdn.example.com/art/12.jpg" type="image/jpeg" length="0"/>
      <enclosure url="/audio/12.mp3" type="audio/mpeg" length="48123456"/>
      <itunes:duration>1:02:03</itunes:duration>
      <itunes:episode>12</itunes:episode>
      <itunes:season>2</itunes:season>
      <itunes:episodeType>full</itunes:episodeType>
      <itunes:explicit>yes</itunes:explicit>
      <itunes:image href="https://cdn.example.com/12.jpg"/>
      <itunes:summary>Waves &amp; tides.</itunes:summary>
    </item>
    <item>
      <title>Trailer</title>
      <pubDate>Mon, 01 Jan 2024 06:00:00 GMT</pubDate>
      <media:content url="https://cdn.example.com/trailer.m4a" type="audio/x-m4a" fileSize="1000"/>
      <itunes:duration>95</itunes:duration>
      <itunes:episodeType>trailer</itunes:episodeType>
    </item>
    <item>
      <title>Show notes only, no media</title>
      <guid>notes-1</guid>
    </item>
  </channel>
</rss>`;

Deno.test("podcast emits episodes with their audio enclosure and iTunes fields", async () => {
  await using t = await testEnv();
  await using server = serveRoutes({
    "/podcast.xml": () => reply(PODCAST, { "content-type": "application/rss+xml" }),
  });
  const options = schema.parse({ url: server.url("/podcast.xml") });
  const { items } = await new PodcastDiscovery(options, t.env).discover();
  const podcast = { url: server.url("/podcast.xml"), title: "The Show", author: "Host Name" };
  assert.deepEqual([...items], [
    {
      key: "show-ep-12",
      data: {
        id: "show-ep-12",
        url: "https://show.example.com/12",
        title: "Episode 12: Tides",
        published: "2024-01-10T06:00:00.000Z",
        enclosure: { url: `${server.origin}/audio/12.mp3`, type: "audio/mpeg", length: 48123456 },
        duration: 3723,
        episode: 12,
        season: 2,
        episode_type: "full",
        explicit: true,
        image: "https://cdn.example.com/12.jpg",
        summary: "Waves & tides.",
        podcast,
      },
    },
    {
      key: hashUrl("https://cdn.example.com/trailer.m4a"),
      data: {
        url: "https://cdn.example.com/trailer.m4a",
        title: "Trailer",
        published: "2024-01-01T06:00:00.000Z",
        enclosure: {
          url: "https://cdn.example.com/trailer.m4a",
          type: "audio/x-m4a",
          length: 1000,
        },
        duration: 95,
        episode_type: "trailer",
        explicit: false,
        image: "https://cdn.example.com/show.jpg",
        podcast,
      },
    },
  ]);
});

Deno.test("podcast reads Atom enclosures and a large real-world feed shape", async () => {
  const episodes = Array.from(
    { length: 300 },
    (_, i) =>
      `<entry><id>tag:x,2024:${i}</id><title>Ep ${i}</title><updated>2024-01-01T00:00:00Z</updated>` +
      `<link rel="enclosure" type="audio/mpeg" href="https://cdn.example/${i}.mp3"/>` +
      `<link rel="enclosure" type="audio/mpeg" href="https://cdn.example/${i}.mp3"/></entry>`,
  ).join("");
  const atom =
    `<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom cast</title>${episodes}</feed>`;
  await using t = await testEnv();
  await using server = serveRoutes({ "/cast.atom": () => reply(atom) });
  const options = schema.parse({ url: server.url("/cast.atom"), limit: 250 });
  const items = [...(await new PodcastDiscovery(options, t.env).discover()).items];
  assert.equal(items.length, 250);
  assert.deepEqual(items[7].data.enclosure, {
    url: "https://cdn.example/7.mp3",
    type: "audio/mpeg",
  });
  assert.equal(items[7].key, "tag:x,2024:7");
});

Deno.test("podcast's schema rejects unknown options", () => {
  const result = schema.safeParse({ url: "https://x/feed", audio_only: true });
  assert.deepEqual(result.error?.issues.map((i) => i.message), ['Unrecognized key: "audio_only"']);
});
