/** podcast: the episodes of podcast feeds, with their enclosure and iTunes fields. */
import { z } from "zod";
import { BaseDiscovery, commonOptions, NOT_MODIFIED, type RawItem, requireSource } from "./base.ts";
import { compact, FEED_ACCEPT, parseFeedBody } from "./_feed_items.ts";
import { episodeMedia } from "./_feed_ext.ts";

/** Options of the podcast strategy: the common options (`url` or `urls` are the podcast feeds). */
export const schema = requireSource(z.strictObject({ ...commonOptions }));

/** Parsed options of the podcast strategy. */
export type PodcastOptions = z.infer<typeof schema>;

/** Emits every episode that has a media file; keyed by guid, else by the media URL. */
export class PodcastDiscovery extends BaseDiscovery<PodcastOptions> {
  /** Episodes of every configured feed; entries without an enclosure are left out. */
  async fetchItems(): Promise<RawItem[]> {
    const items: RawItem[] = [];
    for (const url of this.sourceUrls()) {
      const body = await this.fetchBytes(url, {
        conditional: true,
        headers: { accept: FEED_ACCEPT },
      });
      if (body === NOT_MODIFIED) continue;
      const feed = parseFeedBody(body, (message) => this.warn(message));
      this.noteSchedule(url, feed.schedule);
      const show = feed.itunes ?? {};
      for (const entry of feed.entries) {
        const media = episodeMedia(entry);
        if (!media) continue;
        const episode = entry.itunes ?? {};
        items.push({
          key: entry.id,
          url: media.url,
          date: entry.published ?? entry.updated,
          data: compact({
            id: entry.id,
            url: entry.link ?? media.url,
            title: entry.title ?? episode.title,
            published: entry.published ?? entry.updated,
            enclosure: media,
            duration: episode.duration,
            episode: episode.episode,
            season: episode.season,
            episode_type: episode.episodeType,
            explicit: episode.explicit ?? show.explicit,
            image: episode.image ?? entry.image ?? show.image ?? feed.image,
            summary: episode.summary ?? entry.summary,
            podcast: compact({ url: body.url, title: feed.title, author: show.author }),
          }),
        });
      }
    }
    return items;
  }
}
